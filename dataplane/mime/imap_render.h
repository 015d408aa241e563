// RFC 3501 section 7.4.2 ENVELOPE and BODYSTRUCTURE strings for a parsed part, rendered
// once at delivery and kept in the mailbox index.
#pragma once

#include <string>
#include <string_view>

#include "dataplane/mime/message_part.h"

namespace postcore::mime {

// For a message: the top part, or the embedded message of a message/rfc822 part. A part
// without envelope fields gives all NIL.
std::string imap_envelope(const Part& message);

// BODYSTRUCTURE with extension_data; BODY without.
std::string imap_bodystructure(const Part& part, bool extension_data);

// An IMAP string: quoted, or a literal when it holds CR, LF, NUL or 8-bit octets (a
// quoted string may not; NUL, allowed in neither, is sent as U+FFFD as Dovecot does).
// There is no length limit for quoted strings in RFC 3501, and Dovecot sets none.
void append_imap_string(std::string& out, std::string_view text);

}  // namespace postcore::mime
