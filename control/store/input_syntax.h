// The syntax of what operators type into the store: local names, domains, addresses and
// client networks. Everything is checked and brought to one canonical spelling here, so
// the tables only ever hold one form of each name and comparisons can be plain equality.
#pragma once

#include <string>
#include <string_view>

#include "common/log.h"
#include "common/result.h"

namespace postcore::store {

struct Address {
  std::string local;   // local part
  std::string domain;  // lower-case, no trailing dot
  std::string text() const { return local + "@" + domain; }
};

// A local name (dot-atom, at most 64 characters), lower-cased. Error: EINVAL,
// `invalid name "a..b": two dots in a row`.
Result<std::string> normalize_local_part(std::string_view name);

// A domain name (LDH labels of at most 63 characters, at most 253 in all, one trailing dot
// allowed), lower-cased and without the trailing dot. International names must be given in
// their ASCII (punycode) form. Error: EINVAL, `invalid domain "a_b.com": ...`.
Result<std::string> normalize_domain(std::string_view domain);

// `local@domain`. With keep_local_case the local part keeps its case: an outside system
// may tell `Bob` from `bob`, and a forwarder must deliver exactly what was configured.
// Error: EINVAL, `invalid address "bob": no '@'`.
Result<Address> parse_address(std::string_view text, bool keep_local_case = false);

// A client network in CIDR notation ("192.0.2.0/24", "2001:db8::/32"); a bare address is
// a one-address network. Canonical text out; host bits beyond the prefix are refused
// rather than silently dropped, since they usually mean a typo in the prefix.
Result<std::string> normalize_network(std::string_view text);

}  // namespace postcore::store
