// The rules an imported account or alias name must meet, shared by every migration parser.
// A name becomes the local part of an address, so it must be an RFC 5321 dot-atom (4.1.2,
// atext from RFC 5322 3.2.3) of at most 64 octets (4.5.3.1.1); postcore keeps names in lower
// case so that "Bob" and "bob" are one account. Only ASCII is accepted: an account reachable
// only over SMTPUTF8 would be a trap for the people who write to it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postcore::migrate {

struct NameProblem {
  size_t offset = 0;  // byte offset of the offending character in the checked text
  std::string message;
};

// Problems with `text` as the local part of an account or alias address.
std::optional<NameProblem> check_local_part(std::string_view text);
// Problems with `text` as a domain name: LDH labels of 1-63 octets (RFC 1035 2.3.1,
// RFC 1123 2.1), 253 octets in all; internationalised names must be given as A-labels.
std::optional<NameProblem> check_domain(std::string_view text);

std::string lower_ascii(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace postcore::migrate
