#include "control/netcfg/tcp_sessions.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "control/directory/ip_network.h"

namespace postcore::netcfg {
namespace {

constexpr std::string_view kEstablished = "01";

// "0100007F:0016": the address as the kernel's words in host byte order (little-endian
// here), then the port in hex.
bool parse_endpoint(std::string_view text, bool v6, directory::IpAddress* address, uint16_t* port) {
  const size_t colon = text.find(':');
  const size_t hex_length = v6 ? 32 : 8;
  if (colon != hex_length) return false;
  address->v6 = v6;
  for (size_t word = 0; word < hex_length / 8; word++) {
    uint32_t value = 0;
    const char* begin = text.data() + word * 8;
    if (std::from_chars(begin, begin + 8, value, 16).ptr != begin + 8) return false;
    std::memcpy(address->bytes.data() + word * 4, &value, 4);
  }
  std::string_view port_text = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value, 16);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 0xffff)
    return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

std::vector<std::string> parse_established(std::string_view table, bool v6, uint16_t port) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(table)};
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state) || state != kEstablished) continue;
    directory::IpAddress address;
    uint16_t local_port = 0;
    if (!parse_endpoint(local, v6, &address, &local_port) || local_port != port) continue;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d: the IPv4 address.
    std::optional<directory::IpAddress> plain =
        directory::parse_ip_address(directory::format_ip_address(address));
    std::string text = directory::format_ip_address(plain ? *plain : address);
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
  }
  return out;
}

Result<std::vector<std::string>> established_to_port(uint16_t port) {
  std::vector<std::string> out;
  for (const bool v6 : {false, true}) {
    const char* path = v6 ? "/proc/net/tcp6" : "/proc/net/tcp";
    std::ifstream in(path);
    if (!in) {
      if (v6 && errno == ENOENT) continue;  // a kernel without IPv6
      return make_error(errno, std::string(path) + ": " + std::strerror(errno));
    }
    std::stringstream table;
    table << in.rdbuf();
    for (std::string& a : parse_established(table.str(), v6, port))
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace postcore::netcfg
