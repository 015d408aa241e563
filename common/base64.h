// Strict base64 (RFC 4648 section 4) for the places that decode it: SMTP AUTH responses
// and stored password digests ({SSHA}…). Hand-written rather than OpenSSL's
// EVP_DecodeBlock, which trims whitespace and reports the padded length, so a value one
// byte short or long would still "decode".
#pragma once

#include <string>
#include <string_view>

namespace postcore {

enum class Base64Padding {
  required,  // the last quantum is completed with '=' (SASL, RFC 4954)
  optional,  // '=' may be left out (LDAP-style stored digests); when present it completes
};

// The standard alphabet and nothing else (no whitespace, no line breaks); '=' only where
// it completes the last quantum; pad bits zero, so bytes have one encoding. Replaces out's
// contents; false if text is not such base64. out does not grow beyond its capacity when
// that is at least text.size(), so no copy of the decoded bytes is left in a freed block.
bool decode_base64(std::string_view text, std::string& out, Base64Padding padding);

// Lenient, as mail readers are with what senders wrote (RFC 2047 "B" words, base64 bodies):
// octets outside the alphabet are skipped and the first '=' ends the data.
std::string decode_base64_lenient(std::string_view text);

// Overwrites every octet `s` owns, not only its current length (a short string keeps its
// bytes in the inline buffer, and shrinking never clears what was there), then empties it.
void wipe_string(std::string& s);

}  // namespace postcore
