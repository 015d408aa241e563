// Client networks as CIDR prefixes, for the relay permission check. Parsed once when a
// Directory is built; matching a client address is a few byte compares per network.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::directory {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
};

// Accepts dotted IPv4 and IPv6 text, with an IPv6 zone ("%eth0") ignored. An IPv4-mapped
// IPv6 address ("::ffff:192.0.2.1", what a dual-stack socket reports for an IPv4 peer) is
// taken as the IPv4 address, so that IPv4 networks match it.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// fe80::/10: meaningful only on one link.
bool is_link_local(const IpAddress& address);

// inet_ntop's text: "192.0.2.1", "2001:db8::1".
std::string format_ip_address(const IpAddress& address);

// An address of an interface: the address and the prefix length of its subnet
// ("192.0.2.10/24"). Unlike a network, host bits are what it is about.
struct InterfaceAddress {
  IpAddress address;
  int prefix = 0;
};

// "192.0.2.10/24", "2001:db8::10/64"; a bare address is a host (/32, /128). Refused
// (EINVAL, one line naming the text): anything but an IPv4 or IPv6 address, a prefix
// outside 1–32 (1–128), the unspecified and multicast addresses, IPv4 limited broadcast
// and IPv6 link-local addresses (an alias needs an address other hosts can route to).
Result<InterfaceAddress> parse_interface_address(std::string_view text);

class IpNetwork {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a bare address (one host). Bits set past the
  // prefix length are an error: "10.1.2.3/8" is most likely a typo for something else.
  static Result<IpNetwork> parse(std::string_view cidr);

  bool contains(const IpAddress& address) const;

 private:
  IpAddress base_;
  int prefix_length_ = 0;
};

}  // namespace postcore::directory
