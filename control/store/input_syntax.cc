#include "control/store/input_syntax.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace postcore::store {
namespace {

constexpr size_t kMaxLocalPart = 64;  // RFC 5321 4.5.3.1.1
constexpr size_t kMaxDomain = 253;    // RFC 1035 255 octets on the wire
constexpr size_t kMaxLabel = 63;      // RFC 1035 2.3.4
constexpr size_t kMaxAddress = 254;   // RFC 5321 path limit less the angle brackets

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(char c) {
  return is_alnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

std::string describe_char(char c) {
  if (c > 0x20 && c < 0x7f) return fmt::format("'{}'", c);
  if (c == ' ') return "' '";
  return fmt::format("'\\x{:02x}'", static_cast<unsigned char>(c));
}

// Why `name` is not a dot-atom local part, or nothing when it is one.
std::optional<std::string> local_part_problem(std::string_view name) {
  if (name.empty()) return "empty";
  if (name.size() > kMaxLocalPart) return fmt::format("longer than {} characters", kMaxLocalPart);
  if (name.front() == '.' || name.back() == '.') return "starts or ends with a dot";
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (name[i + 1] == '.') return "two dots in a row";
    } else if (!is_atext(c)) {
      return fmt::format("character {} is not allowed", describe_char(c));
    }
  }
  return std::nullopt;
}

std::optional<std::string> domain_problem(std::string_view domain) {
  if (domain.empty()) return "empty";
  if (domain.size() > kMaxDomain) return fmt::format("longer than {} characters", kMaxDomain);
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    std::string_view label = domain.substr(start, end - start);
    if (label.empty()) return "empty label";
    if (label.size() > kMaxLabel)
      return fmt::format("label \"{}\" is longer than {} characters", label, kMaxLabel);
    for (char c : label) {
      if (static_cast<unsigned char>(c) >= 0x80)
        return fmt::format("character {} is not allowed (give international names in punycode)",
                           describe_char(c));
      if (!is_alnum(c) && c != '-')
        return fmt::format("character {} is not allowed", describe_char(c));
    }
    if (label.front() == '-' || label.back() == '-')
      return fmt::format("label \"{}\" starts or ends with a hyphen", label);
    start = end + 1;
  }
  return std::nullopt;
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view strip_trailing_dot(std::string_view domain) {
  if (domain.size() > 1 && domain.back() == '.') domain.remove_suffix(1);
  return domain;
}

}  // namespace

Result<std::string> normalize_local_part(std::string_view name) {
  if (auto problem = local_part_problem(name))
    return make_error(EINVAL, fmt::format("invalid name \"{}\": {}", printable(name), *problem));
  return lower_case(name);
}

Result<std::string> normalize_domain(std::string_view domain) {
  std::string_view bare = strip_trailing_dot(domain);
  if (auto problem = domain_problem(bare))
    return make_error(EINVAL,
                      fmt::format("invalid domain \"{}\": {}", printable(domain), *problem));
  return lower_case(bare);
}

Result<Address> parse_address(std::string_view text, bool keep_local_case) {
  auto invalid = [&](std::string_view why) {
    return make_error(EINVAL, fmt::format("invalid address \"{}\": {}", printable(text), why));
  };
  if (text.size() > kMaxAddress)
    return invalid(fmt::format("longer than {} characters", kMaxAddress));
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) return invalid("no '@'");
  std::string_view local = text.substr(0, at);
  std::string_view domain = strip_trailing_dot(text.substr(at + 1));
  if (auto problem = local_part_problem(local))
    return invalid(fmt::format("local part {}", *problem));
  if (auto problem = domain_problem(domain)) return invalid(fmt::format("domain {}", *problem));
  return Address{keep_local_case ? std::string(local) : lower_case(local), lower_case(domain)};
}

Result<std::string> normalize_network(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return make_error(EINVAL, fmt::format("invalid network \"{}\": {}", printable(text), why));
  };
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  unsigned char bytes[16] = {};
  if (inet_pton(family, address.c_str(), bytes) != 1)
    return invalid(family == AF_INET6 ? "not an IPv6 address" : "not an IPv4 address");
  const int max_prefix = family == AF_INET6 ? 128 : 32;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > max_prefix)
      return invalid(fmt::format("prefix length must be 0 to {}", max_prefix));
  }
  unsigned char masked[16] = {};
  std::memcpy(masked, bytes, sizeof masked);
  for (int bit = prefix; bit < max_prefix; ++bit)
    masked[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char canonical[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, masked, canonical, sizeof canonical);
  if (std::memcmp(masked, bytes, sizeof masked) != 0)
    return invalid(fmt::format("address has bits set beyond the /{} prefix (did you mean {}/{}?)",
                               prefix, canonical, prefix));
  return fmt::format("{}/{}", canonical, prefix);
}

}  // namespace postcore::store
