// RFC 5321 4.1.2 paths as they appear in MAIL FROM and RCPT TO, with the RFC 6531
// extension for UTF-8 in local parts and domains. The parse does not allocate: the mailbox is
// a view into the command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace postcore::smtp {

enum class PathError : uint8_t {
  none,
  syntax,
  local_part_too_long,  // over 64 octets (RFC 5321 4.5.3.1.1)
  domain_too_long,      // over 255 octets (4.5.3.1.2)
  path_too_long,        // over 256 octets with brackets and route (4.5.3.1.3)
};

struct Path {
  // "local@domain" exactly as sent (a quoted local part keeps its quotes), without the angle
  // brackets and without any source route, which RFC 5321 4.1.1.3 says to ignore. Empty for
  // the null path "<>".
  std::string_view mailbox;
  size_t length = 0;        // octets of the path in the input, brackets included
  bool null = false;        // "<>"
  bool non_ascii = false;   // holds UTF-8: allowed only in an SMTPUTF8 transaction
  bool postmaster = false;  // "<Postmaster>" with no domain, any case (RFC 5321 4.5.1)
};

// Parses the path at the start of text ('<' ... '>'); what follows it is not looked at.
PathError parse_path(std::string_view text, Path* out);

}  // namespace postcore::smtp
