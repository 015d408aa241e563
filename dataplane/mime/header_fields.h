// The structured header fields the tree keeps: Content-* (RFC 2045, 2183, 3282, 2557,
// 2231) and the envelope fields of RFC 3501's ENVELOPE (RFC 5322 addresses, with the
// obsolete syntax real mail still carries). Values arrive unfolded and bounded.
#pragma once

#include <string>
#include <string_view>

#include "dataplane/mime/message_part.h"

namespace postcore::mime {

std::string lowercase(std::string_view text);

// Whether the parser keeps this (lowercased) field; envelope fields only in a message's
// own header.
bool is_kept_field(std::string_view name, bool in_message_header);

// The first of each Content-* field counts, as in Dovecot.
void apply_content_field(std::string_view name, std::string_view value, ContentFields& out);
// False when an address list reached max_addresses and addresses were dropped.
bool apply_envelope_field(std::string_view name, std::string_view value, size_t max_addresses,
                          Envelope& out);

// RFC 5322 address-list (obsolete forms and stray junk tolerated) in ENVELOPE form. A
// mailbox without a host gets the host "MISSING_DOMAIN", without a local part the
// mailbox "MISSING_MAILBOX", as Dovecot does, because IMAP reads a NIL host as a group.
AddressList parse_address_list(std::string_view value);

// "type/subtype; name=value; ..." (Content-Type) or "token; name=value" (disposition).
// Parameter names are lowercased and RFC 2231 continuations joined.
Parameters parse_parameters(std::string_view text);

}  // namespace postcore::mime
