#include "control/netcfg/neighbour_announce.h"

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace postcore::netcfg {
namespace {

using Clock = std::chrono::steady_clock;
using Mac = std::array<uint8_t, 6>;

constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr size_t kEthernetHeader = 14;
constexpr size_t kArpPayload = 28;
constexpr size_t kIpv6Header = 40;
constexpr size_t kNeighbourMessage = 24;  // NS and NA without options
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint8_t kAdvertOverride = 0x20;  // in the first byte of the NA flags

// What one non-blocking read of a probe's answers found.
struct Received {
  bool nothing_queued = false;
  std::optional<std::string> holder;  // MAC of another host with the address
};

struct Link {
  std::string name;
  int index = 0;
  Mac mac{};
};

// errno is read before anything else can change it.
Error system_error(const std::string& interface, const std::string& what) {
  const int code = errno;
  return make_error(code, interface + ": " + what + ": " + std::strerror(code));
}

std::string mac_text(const uint8_t* mac) {
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

void put16(uint8_t* at, uint16_t value) {
  at[0] = static_cast<uint8_t>(value >> 8);
  at[1] = static_cast<uint8_t>(value);
}

uint16_t get16(const uint8_t* at) {
  return static_cast<uint16_t>(at[0] << 8 | at[1]);
}

Result<Link> find_link(const std::string& interface) {
  // A longer name would be cut short in ifreq and could name a different interface.
  if (interface.empty() || interface.size() >= IFNAMSIZ)
    return make_error(ENODEV, "no such interface: \"" + interface + "\"");
  Link link;
  link.name = interface;
  link.index = static_cast<int>(if_nametoindex(interface.c_str()));
  if (link.index == 0) return make_error(ENODEV, interface + ": no such interface");

  // An unprivileged socket for the queries, so that a missing interface is reported as
  // such even to a caller without CAP_NET_RAW.
  UniqueFd query(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!query.valid()) return system_error(interface, "cannot open a socket to query it");
  ifreq request{};
  std::memcpy(request.ifr_name, interface.data(), interface.size());
  if (::ioctl(query.get(), SIOCGIFHWADDR, &request) < 0)
    return system_error(interface, "cannot read the link-layer address");
  // Checked before the flags: loopback (down in a fresh namespace) can never be used, so
  // "down" would be the less useful answer.
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return make_error(EINVAL, interface + ": not an Ethernet interface (link type " +
                                  std::to_string(request.ifr_hwaddr.sa_family) + ")");
  std::memcpy(link.mac.data(), request.ifr_hwaddr.sa_data, link.mac.size());
  if (::ioctl(query.get(), SIOCGIFFLAGS, &request) < 0)
    return system_error(interface, "cannot read the interface flags");
  if (!(request.ifr_flags & IFF_UP)) return make_error(ENETDOWN, interface + ": interface is down");
  return link;
}

// ---- Frames on a packet socket (ARP, and the neighbour solicitation from ::) ----

Result<UniqueFd> open_packet_socket(const Link& link, uint16_t ethertype) {
  // Protocol 0 at creation: nothing is queued until bind() narrows reception to the one
  // interface and ethertype (ethertype 0 keeps the socket send-only).
  UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error(link.name, "cannot open a packet socket");
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ethertype);
  address.sll_ifindex = link.index;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0)
    return system_error(link.name, "cannot bind a packet socket");
  return fd;
}

Result<void> send_frame(const Link& link, const UniqueFd& fd, const std::vector<uint8_t>& frame,
                        const char* what) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(get16(&frame[12]));
  to.sll_ifindex = link.index;
  to.sll_halen = ETH_ALEN;
  std::memcpy(to.sll_addr, frame.data(), ETH_ALEN);
  if (::sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof(to)) < 0)
    return system_error(link.name, std::string("cannot send ") + what);
  return {};
}

std::vector<uint8_t> ethernet_frame(const Mac& destination, const Mac& source, uint16_t ethertype,
                                    size_t payload) {
  std::vector<uint8_t> frame(kEthernetHeader + payload);
  std::copy(destination.begin(), destination.end(), frame.begin());
  std::copy(source.begin(), source.end(), frame.begin() + 6);
  put16(&frame[12], ethertype);
  return frame;
}

// A broadcast ARP request: the announcement has sender = target = the address, the probe
// sender 0.0.0.0 (RFC 5227 2.1.1, 2.3), so neither pollutes caches with a wrong mapping.
std::vector<uint8_t> arp_request(const Mac& own, const uint8_t* sender_ip,
                                 const uint8_t* target_ip) {
  std::vector<uint8_t> frame = ethernet_frame(kBroadcast, own, ETHERTYPE_ARP, kArpPayload);
  uint8_t* arp = &frame[kEthernetHeader];
  put16(arp, ARPHRD_ETHER);
  put16(arp + 2, ETHERTYPE_IP);
  arp[4] = ETH_ALEN;
  arp[5] = 4;
  put16(arp + 6, ARPOP_REQUEST);
  std::copy(own.begin(), own.end(), arp + 8);
  std::memcpy(arp + 14, sender_ip, 4);
  // Target hardware address 18..23 stays zero: unknown, as in any request.
  std::memcpy(arp + 24, target_ip, 4);
  return frame;
}

// The holder's MAC when `frame` is an ARP request or reply from another host claiming
// `address`.
std::optional<std::string> arp_claim(const uint8_t* frame, size_t length, const Link& link,
                                     const directory::IpAddress& address) {
  if (length < kEthernetHeader + kArpPayload || get16(frame + 12) != ETHERTYPE_ARP)
    return std::nullopt;
  const uint8_t* arp = frame + kEthernetHeader;
  if (get16(arp) != ARPHRD_ETHER || get16(arp + 2) != ETHERTYPE_IP || arp[4] != ETH_ALEN ||
      arp[5] != 4)
    return std::nullopt;
  const uint16_t op = get16(arp + 6);
  if (op != ARPOP_REQUEST && op != ARPOP_REPLY) return std::nullopt;
  if (std::memcmp(arp + 14, address.bytes.data(), 4) != 0) return std::nullopt;
  if (std::equal(link.mac.begin(), link.mac.end(), arp + 8)) return std::nullopt;
  return mac_text(arp + 8);
}

// ff02::1:ffXX:XXXX, where the holder of `target` listens for solicitations.
std::array<uint8_t, 16> solicited_node(const directory::IpAddress& target) {
  std::array<uint8_t, 16> group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  std::copy(target.bytes.begin() + 13, target.bytes.end(), group.begin() + 13);
  return group;
}

uint16_t icmpv6_checksum(const uint8_t* source, const uint8_t* destination, const uint8_t* message,
                         size_t length) {
  uint32_t sum = 0;
  auto add = [&sum](const uint8_t* data, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += get16(data + i);
    if (n % 2) sum += static_cast<uint32_t>(data[n - 1]) << 8;
  };
  add(source, 16);
  add(destination, 16);
  sum += static_cast<uint32_t>(length);
  sum += IPPROTO_ICMPV6;
  add(message, length);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// A neighbour solicitation from :: as duplicate address detection sends it (RFC 4862
// 5.4.2). Built whole because a raw ICMPv6 socket cannot send from :: (the kernel takes
// an unspecified source in IPV6_PKTINFO as "choose one"), and because a solicitation from
// a real address would make the holder cache our MAC and answer only us, by unicast.
std::vector<uint8_t> neighbour_solicitation(const Link& link, const directory::IpAddress& target) {
  const std::array<uint8_t, 16> group = solicited_node(target);
  const Mac destination = {0x33, 0x33, group[12], group[13], group[14], group[15]};
  std::vector<uint8_t> frame =
      ethernet_frame(destination, link.mac, ETHERTYPE_IPV6, kIpv6Header + kNeighbourMessage);
  uint8_t* ip = &frame[kEthernetHeader];
  ip[0] = 0x60;
  put16(ip + 4, kNeighbourMessage);
  ip[6] = IPPROTO_ICMPV6;
  ip[7] = 255;  // receivers drop neighbour discovery that may have crossed a router
  // Source 8..23 stays :: (zero).
  std::copy(group.begin(), group.end(), ip + 24);
  uint8_t* icmp = ip + kIpv6Header;
  icmp[0] = ND_NEIGHBOR_SOLICIT;
  std::copy(target.bytes.begin(), target.bytes.end(), icmp + 8);
  put16(icmp + 2, icmpv6_checksum(ip + 8, ip + 24, icmp, kNeighbourMessage));
  return frame;
}

// ---- ICMPv6 on a raw socket ----

Result<UniqueFd> open_icmpv6_socket(const Link& link, int pass_type) {
  UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd.valid()) return system_error(link.name, "cannot open a raw ICMPv6 socket");
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  if (pass_type >= 0) ICMP6_FILTER_SETPASS(pass_type, &filter);
  if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0)
    return system_error(link.name, "cannot set the ICMPv6 filter");
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, link.name.c_str(),
                   static_cast<socklen_t>(link.name.size())) < 0)
    return system_error(link.name, "cannot bind a raw ICMPv6 socket to the interface");
  return fd;
}

Result<void> set_int_option(const Link& link, const UniqueFd& fd, int level, int name, int value,
                            const char* what) {
  if (::setsockopt(fd.get(), level, name, &value, sizeof(value)) < 0)
    return system_error(link.name, std::string("cannot set ") + what);
  return {};
}

// The holder's MAC when `message` is a neighbour advertisement from another host for
// `address`; "unknown" when it left out its link-layer address.
std::optional<std::string> advertised_holder(const uint8_t* message, size_t length,
                                             const Link& link,
                                             const directory::IpAddress& address) {
  if (length < kNeighbourMessage || message[0] != ND_NEIGHBOR_ADVERT || message[1] != 0)
    return std::nullopt;
  if (!std::equal(address.bytes.begin(), address.bytes.end(), message + 8)) return std::nullopt;
  for (size_t at = kNeighbourMessage; at + 2 <= length;) {
    const size_t option_length = message[at + 1] * size_t{8};
    if (option_length == 0 || at + option_length > length) break;  // malformed: stop
    if (message[at] == kOptionTargetLinkLayer && option_length >= 8) {
      // Our own address, looped back or sent by another process here: not another host.
      if (std::equal(link.mac.begin(), link.mac.end(), message + at + 2)) return std::nullopt;
      return mac_text(message + at + 2);
    }
    at += option_length;
  }
  return "unknown";
}

// Hop limit 255 proves the advertisement was not forwarded (RFC 4861 7.1.2).
bool from_the_link(msghdr& header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int hops = 0;
      std::memcpy(&hops, CMSG_DATA(c), sizeof(hops));
      return hops == 255;
    }
  }
  return false;
}

// ---- Announcements and probes ----

template <typename SendOnce>
Result<void> repeat(int count, std::chrono::milliseconds interval, SendOnce send_once) {
  for (int i = 0; i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(interval);
    if (Result<void> sent = send_once(); !sent) return sent;
  }
  return {};
}

Result<void> announce_ipv4(const Link& link, const directory::IpAddress& address, int count,
                           std::chrono::milliseconds interval) {
  Result<UniqueFd> fd = open_packet_socket(link, 0);
  if (!fd) return fd.error();
  const std::vector<uint8_t> frame =
      arp_request(link.mac, address.bytes.data(), address.bytes.data());
  return repeat(count, interval,
                [&] { return send_frame(link, *fd, frame, "the ARP announcement"); });
}

Result<void> announce_ipv6(const Link& link, const directory::IpAddress& address, int count,
                           std::chrono::milliseconds interval) {
  Result<UniqueFd> fd = open_icmpv6_socket(link, -1);  // sends only
  if (!fd) return fd.error();
  // Hop limit 255 or receivers discard it; no loop, as our own stack needs no telling.
  for (auto [name, value, what] :
       {std::tuple{IPV6_MULTICAST_IF, link.index, "the multicast interface"},
        std::tuple{IPV6_MULTICAST_HOPS, 255, "the multicast hop limit"},
        std::tuple{IPV6_UNICAST_HOPS, 255, "the unicast hop limit"},
        std::tuple{IPV6_MULTICAST_LOOP, 0, "multicast loop"}}) {
    if (Result<void> set = set_int_option(link, *fd, IPPROTO_IPV6, name, value, what); !set)
      return set;
  }

  std::array<uint8_t, kNeighbourMessage + 8> message{};
  message[0] = ND_NEIGHBOR_ADVERT;
  // Override so that receivers replace the old holder's cached MAC; not Solicited, as
  // nobody asked (RFC 4861 7.2.6). The checksum is the kernel's.
  message[4] = kAdvertOverride;
  std::copy(address.bytes.begin(), address.bytes.end(), message.begin() + 8);
  message[kNeighbourMessage] = kOptionTargetLinkLayer;
  message[kNeighbourMessage + 1] = 1;
  std::copy(link.mac.begin(), link.mac.end(), message.begin() + kNeighbourMessage + 2);

  sockaddr_in6 all_nodes{};
  all_nodes.sin6_family = AF_INET6;
  all_nodes.sin6_addr.s6_addr[0] = 0xff;
  all_nodes.sin6_addr.s6_addr[1] = 0x02;
  all_nodes.sin6_addr.s6_addr[15] = 0x01;
  all_nodes.sin6_scope_id = static_cast<uint32_t>(link.index);
  return repeat(count, interval, [&]() -> Result<void> {
    if (::sendto(fd->get(), message.data(), message.size(), 0,
                 reinterpret_cast<const sockaddr*>(&all_nodes), sizeof(all_nodes)) < 0)
      return system_error(link.name, "cannot send the neighbour advertisement");
    return {};
  });
}

// Sends with `send_probe` at once and every wait/3, and lets `receive` read what arrives on
// `receiver` until it finds a holder or `wait` has passed.
template <typename SendProbe, typename Receive>
Result<std::optional<std::string>> probe_loop(const Link& link, const UniqueFd& receiver,
                                              std::chrono::milliseconds wait, SendProbe send_probe,
                                              Receive receive) {
  const Clock::time_point deadline = Clock::now() + std::max(wait, std::chrono::milliseconds(0));
  const auto resend_every = std::max(wait / 3, std::chrono::milliseconds(1));
  Clock::time_point next_probe = Clock::now();
  for (;;) {
    Clock::time_point now = Clock::now();
    if (now >= next_probe && now < deadline) {
      if (Result<void> sent = send_probe(); !sent) return sent.error();
      next_probe += resend_every;
    }
    if (now >= deadline) return std::optional<std::string>();
    const auto until = std::min(next_probe, deadline) - now;
    // Rounded up, so that poll() does not return just short of the deadline and spin.
    const int timeout =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until).count());
    pollfd ready{receiver.get(), POLLIN, 0};
    const int n = ::poll(&ready, 1, timeout);
    if (n < 0 && errno != EINTR) return system_error(link.name, "cannot wait for answers");
    if (n <= 0) continue;
    for (;;) {
      Result<Received> received = receive();
      if (!received) return received.error();
      if (received->nothing_queued) break;
      if (received->holder) return received->holder;
    }
  }
}

Result<std::optional<std::string>> probe_ipv4(const Link& link, const directory::IpAddress& address,
                                              std::chrono::milliseconds wait) {
  Result<UniqueFd> fd = open_packet_socket(link, ETHERTYPE_ARP);
  if (!fd) return fd.error();
  const uint8_t unspecified[4] = {};
  const std::vector<uint8_t> frame = arp_request(link.mac, unspecified, address.bytes.data());
  return probe_loop(
      link, *fd, wait, [&] { return send_frame(link, *fd, frame, "the ARP probe"); },
      [&]() -> Result<Received> {
        uint8_t buffer[256];
        const ssize_t n = ::recv(fd->get(), buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return Received{.nothing_queued = true};
          return system_error(link.name, "cannot receive ARP");
        }
        return Received{.holder = arp_claim(buffer, static_cast<size_t>(n), link, address)};
      });
}

Result<std::optional<std::string>> probe_ipv6(const Link& link, const directory::IpAddress& address,
                                              std::chrono::milliseconds wait) {
  Result<UniqueFd> receiver = open_icmpv6_socket(link, ND_NEIGHBOR_ADVERT);
  if (!receiver) return receiver.error();
  if (Result<void> set =
          set_int_option(link, *receiver, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
      !set)
    return set.error();
  Result<UniqueFd> sender = open_packet_socket(link, 0);
  if (!sender) return sender.error();
  const std::vector<uint8_t> frame = neighbour_solicitation(link, address);
  return probe_loop(
      link, *receiver, wait,
      [&] { return send_frame(link, *sender, frame, "the neighbour solicitation"); },
      [&]() -> Result<Received> {
        uint8_t buffer[1500];
        alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int)) * 2];
        iovec data{buffer, sizeof(buffer)};
        msghdr header{};
        header.msg_iov = &data;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof(control);
        const ssize_t n = ::recvmsg(receiver->get(), &header, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return Received{.nothing_queued = true};
          return system_error(link.name, "cannot receive ICMPv6");
        }
        if (!from_the_link(header)) return Received{};
        return Received{.holder = advertised_holder(buffer, static_cast<size_t>(n), link, address)};
      });
}

}  // namespace

Result<void> announce_address(const std::string& interface, const directory::IpAddress& address,
                              int count, std::chrono::milliseconds interval) {
  Result<Link> link = find_link(interface);
  if (!link) return link.error();
  return address.v6 ? announce_ipv6(*link, address, count, interval)
                    : announce_ipv4(*link, address, count, interval);
}

Result<std::optional<std::string>> probe_address(const std::string& interface,
                                                 const directory::IpAddress& address,
                                                 std::chrono::milliseconds wait) {
  Result<Link> link = find_link(interface);
  if (!link) return link.error();
  return address.v6 ? probe_ipv6(*link, address, wait) : probe_ipv4(*link, address, wait);
}

}  // namespace postcore::netcfg
