// Header text to UTF-8 for the store and SEARCH: RFC 2047 encoded words and RFC 2231
// extended parameter values. IMAP itself sends both raw; these are for what postcore
// shows or matches.
#pragma once

#include <string>
#include <string_view>

namespace postcore::mime {

// Decodes every RFC 2047 encoded word ("=?charset?Q?...?=", "=?charset?B?...?=") in
// unstructured text or a phrase. White space between adjacent encoded words is dropped,
// and adjacent words in one charset are decoded together, since senders split multi-octet
// characters across them. A word in a charset charset_to_utf8() does not know, or one that
// is malformed, is left as it is; so is text outside encoded words.
std::string decode_encoded_words(std::string_view text);

// An RFC 2231 extended value, charset'language'%XX..., to UTF-8. Without the two quotes
// it is percent-decoded only; in an unknown charset it is returned as it came.
std::string decode_rfc2231_value(std::string_view value);

// Appends text in charset (case-insensitive, an RFC 2231 "*language" suffix ignored) to
// out as UTF-8: us-ascii, utf-8, iso-8859-1, iso-8859-15 and windows-1252. False, and out
// untouched, for any other charset.
bool charset_to_utf8(std::string_view charset, std::string_view text, std::string& out);

}  // namespace postcore::mime
