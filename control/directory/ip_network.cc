#include "control/directory/ip_network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

namespace postcore::directory {
namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// inet_pton wants a NUL-terminated string; addresses are short, so a stack copy will do.
template <typename Out>
bool pton(int family, std::string_view text, Out* out) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  return ::inet_pton(family, buffer, out) == 1;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  IpAddress address;
  if (text.find(':') == std::string_view::npos) {
    if (!pton(AF_INET, text, address.bytes.data())) return std::nullopt;
    return address;
  }
  if (size_t zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  if (!pton(AF_INET6, text, address.bytes.data())) return std::nullopt;
  if (std::memcmp(address.bytes.data(), kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    std::memset(address.bytes.data() + 4, 0, 12);
    return address;
  }
  address.v6 = true;
  return address;
}

bool is_link_local(const IpAddress& address) {
  return address.v6 && address.bytes[0] == 0xfe && (address.bytes[1] & 0xc0) == 0x80;
}

std::string format_ip_address(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof(text));
  return text;
}

Result<InterfaceAddress> parse_interface_address(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return make_error(EINVAL, "address '" + std::string(text) + "': " + why);
  };
  std::string_view address_text = text.substr(0, text.find('/'));
  InterfaceAddress out;
  out.address.v6 = address_text.find(':') != std::string_view::npos;
  if (!pton(out.address.v6 ? AF_INET6 : AF_INET, address_text, out.address.bytes.data()))
    return invalid("not an IPv4 or IPv6 address");
  const int max_length = out.address.v6 ? 128 : 32;
  out.prefix = max_length;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view length_text = text.substr(slash + 1);
    const char* end = length_text.data() + length_text.size();
    auto [ptr, ec] = std::from_chars(length_text.data(), end, out.prefix);
    if (length_text.empty() || ec != std::errc() || ptr != end || out.prefix < 1 ||
        out.prefix > max_length)
      return invalid("prefix length must be 1 to " + std::to_string(max_length));
  }
  const auto& b = out.address.bytes;
  const bool unspecified =
      std::all_of(b.begin(), b.begin() + max_length / 8, [](uint8_t byte) { return byte == 0; });
  if (unspecified) return invalid("the unspecified address cannot be an alias");
  if (out.address.v6 ? b[0] == 0xff : (b[0] & 0xf0) == 0xe0)
    return invalid("a multicast address cannot be an alias");
  if (!out.address.v6 && b[0] == 0xff && b[1] == 0xff && b[2] == 0xff && b[3] == 0xff)
    return invalid("the broadcast address cannot be an alias");
  if (is_link_local(out.address)) return invalid("a link-local address cannot be an alias");
  return out;
}

Result<IpNetwork> IpNetwork::parse(std::string_view cidr) {
  auto invalid = [&](const std::string& why) {
    return make_error(EINVAL, "relay network '" + std::string(cidr) + "': " + why);
  };
  std::string_view address_text = cidr;
  std::string_view length_text;
  if (size_t slash = cidr.find('/'); slash != std::string_view::npos) {
    address_text = cidr.substr(0, slash);
    length_text = cidr.substr(slash + 1);
  }
  IpNetwork network;
  bool v6 = address_text.find(':') != std::string_view::npos;
  if (!pton(v6 ? AF_INET6 : AF_INET, address_text, network.base_.bytes.data())) {
    return invalid("not an IPv4 or IPv6 address");
  }
  network.base_.v6 = v6;
  int max_length = v6 ? 128 : 32;
  network.prefix_length_ = max_length;
  if (cidr.find('/') != std::string_view::npos) {
    const char* end = length_text.data() + length_text.size();
    auto [ptr, ec] = std::from_chars(length_text.data(), end, network.prefix_length_);
    if (length_text.empty() || ec != std::errc() || ptr != end || network.prefix_length_ < 0 ||
        network.prefix_length_ > max_length) {
      return invalid("prefix length must be 0 to " + std::to_string(max_length));
    }
  }
  // Written as an IPv4-mapped IPv6 prefix, a network means IPv4 clients, which
  // parse_ip_address reports as IPv4.
  if (v6 && network.prefix_length_ >= 96 &&
      std::memcmp(network.base_.bytes.data(), kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0) {
    std::memmove(network.base_.bytes.data(), network.base_.bytes.data() + 12, 4);
    std::memset(network.base_.bytes.data() + 4, 0, 12);
    network.base_.v6 = false;
    network.prefix_length_ -= 96;
    max_length = 32;
  }
  for (int bit = network.prefix_length_; bit < max_length; bit++) {
    if (network.base_.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return invalid("address has bits set past the prefix length");
    }
  }
  return network;
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.v6 != base_.v6) return false;
  int whole = prefix_length_ / 8;
  if (std::memcmp(address.bytes.data(), base_.bytes.data(), whole) != 0) return false;
  int rest = prefix_length_ % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return (address.bytes[whole] & mask) == base_.bytes[whole];
}

}  // namespace postcore::directory
