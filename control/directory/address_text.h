// Small text helpers for addresses, shared by the build and the resolver. Only ASCII
// letters fold: RFC 6531 gives no case rule for UTF-8 local parts, so other bytes compare
// as they are.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postcore::directory::address_text {

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(lower(c));
}

inline std::string to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_lower(out, s);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline std::string_view without_trailing_dot(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return domain;
}

struct AddressParts {
  std::string_view local;
  std::string_view domain;
};

// Splits at the last '@', since a quoted local part may hold '@' itself. Both halves must
// be non-empty.
inline std::optional<AddressParts> split(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  return AddressParts{address.substr(0, at), address.substr(at + 1)};
}

}  // namespace postcore::directory::address_text
