// Neighbour announcements and probes on a veth pair in a private network namespace: pa
// (10.77.0.1, fd00:77::1) announces and probes, pb (10.77.0.2, fd00:77::2) listens and
// answers. Each test forks a child for the namespace, so the test process's own network is
// never touched; the child reports one line through a pipe and the parent asserts on it.
#include "control/netcfg/neighbour_announce.h"

#include "common/unique_fd.h"

#include "tests/unit/netcfg/private_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace postcore::netcfg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

directory::IpAddress address(const char* text) {
  std::optional<directory::IpAddress> parsed = directory::parse_ip_address(text);
  if (!parsed) std::abort();
  return *parsed;
}

// Closes on scope exit; the child exits with _exit(), so nothing else would.
std::string mac_text(const uint8_t* m) {
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return text;
}

std::string mac_of(const char* interface) {
  UniqueFd query(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", interface);
  if (ioctl(query.get(), SIOCGIFHWADDR, &request) < 0) return "?";
  return mac_text(reinterpret_cast<const uint8_t*>(request.ifr_hwaddr.sa_data));
}

bool running(const char* interface) {
  UniqueFd query(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", interface);
  return ioctl(query.get(), SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_RUNNING);
}

// The kernel refuses to bind a tentative address, so this is true once an IPv6 address is
// fully usable (and its holder has joined the solicited-node group).
bool bindable(const char* ipv6) {
  UniqueFd probe(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  inet_pton(AF_INET6, ipv6, &local.sin6_addr);
  return bind(probe.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) == 0;
}

// In the child, inside its new namespace. /sys/class/net still shows the parent's
// namespace (sysfs is not remounted), so readiness is asked through ioctl and bind.
std::string build_network() {
  const char* commands[] = {
      "ip link add pa type veth peer name pb",
      "ip link set pa up",
      "ip link set pb up",
      "ip addr add 10.77.0.1/24 dev pa",
      "ip addr add 10.77.0.2/24 dev pb",
      "ip addr add fd00:77::1/64 nodad dev pa",
      "ip addr add fd00:77::2/64 nodad dev pb",
  };
  for (const char* command : commands) {
    if (std::system(command) != 0) return std::string("setup failed: ") + command;
  }
  // Until the link watcher has marked both ends running, a veth drops what it is given.
  const Clock::time_point give_up = Clock::now() + 2s;
  while (!(running("pa") && running("pb") && bindable("fd00:77::1") && bindable("fd00:77::2"))) {
    if (Clock::now() > give_up) return "setup failed: veth pair not up within 2 s";
    std::this_thread::sleep_for(10ms);
  }
  return "";
}

// The child's network holds the veth pair, up and addressed.
std::string in_private_network(const std::function<std::string()>& body) {
  return testing::in_private_network([&]() -> std::string {
    std::string failed = build_network();
    return failed.empty() ? body() : failed;
  });
}

using testing::skipped;

std::string describe(const Result<std::optional<std::string>>& probed) {
  if (!probed)
    return "error " + std::to_string(probed.error().code) + ": " + probed.error().message;
  return probed->value_or("nobody");
}

std::string error_code(const Result<void>& result) {
  return result ? "ok" : std::to_string(result.error().code);
}

std::string error_code(const Result<std::optional<std::string>>& result) {
  return result ? "ok" : std::to_string(result.error().code);
}

// Packets that reach `fd` within `window` and satisfy `matches`.
int count_matching(int fd, std::chrono::milliseconds window,
                   const std::function<bool(const uint8_t*, size_t)>& matches) {
  int count = 0;
  const Clock::time_point end = Clock::now() + window;
  for (Clock::time_point now; (now = Clock::now()) < end;) {
    pollfd ready{fd, POLLIN, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - now);
    if (poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
    uint8_t packet[1500];
    const ssize_t n = recv(fd, packet, sizeof(packet), MSG_DONTWAIT);
    if (n > 0 && matches(packet, static_cast<size_t>(n))) ++count;
  }
  return count;
}

TEST(NeighbourAnnounce, Ipv4SendsCountGratuitousArpRequests) {
  const std::string report = in_private_network([]() -> std::string {
    UniqueFd listener(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    sockaddr_ll on_pb{};
    on_pb.sll_family = AF_PACKET;
    on_pb.sll_protocol = htons(ETH_P_ARP);
    on_pb.sll_ifindex = static_cast<int>(if_nametoindex("pb"));
    if (bind(listener.get(), reinterpret_cast<const sockaddr*>(&on_pb), sizeof(on_pb)) != 0)
      return std::string("bind on pb: ") + std::strerror(errno);

    Result<void> announced = announce_address("pa", address("10.77.0.50"), 3, 50ms);
    if (!announced) return "announce failed: " + announced.error().message;

    const std::string pa_mac = mac_of("pa");
    const uint8_t ip[4] = {10, 77, 0, 50};
    const int seen = count_matching(listener.get(), 300ms, [&](const uint8_t* frame, size_t n) {
      if (n < 42 || frame[12] != 0x08 || frame[13] != 0x06) return false;
      const uint8_t* arp = frame + 14;
      const bool request = arp[6] == 0 && arp[7] == 1;
      return request && mac_text(arp + 8) == pa_mac && std::memcmp(arp + 14, ip, 4) == 0 &&
             std::memcmp(arp + 24, ip, 4) == 0;
    });
    return "announcements seen: " + std::to_string(seen);
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "announcements seen: 3");
}

TEST(NeighbourAnnounce, Ipv6SendsUnsolicitedOverridingAdvertisement) {
  const std::string report = in_private_network([]() -> std::string {
    UniqueFd listener(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
    if (setsockopt(listener.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) != 0 ||
        setsockopt(listener.get(), SOL_SOCKET, SO_BINDTODEVICE, "pb", 2) != 0)
      return std::string("listener on pb: ") + std::strerror(errno);

    Result<void> announced = announce_address("pa", address("fd00:77::50"), 3, 50ms);
    if (!announced) return "announce failed: " + announced.error().message;

    const directory::IpAddress target = address("fd00:77::50");
    const std::string pa_mac = mac_of("pa");
    std::string last = "none";
    const int seen = count_matching(listener.get(), 300ms, [&](const uint8_t* message, size_t n) {
      if (n < 24 || message[0] != ND_NEIGHBOR_ADVERT) return false;
      if (std::memcmp(message + 8, target.bytes.data(), 16) != 0) return false;
      char flags[48];
      std::snprintf(flags, sizeof(flags), "router=%d solicited=%d override=%d",
                    (message[4] & 0x80) != 0, (message[4] & 0x40) != 0, (message[4] & 0x20) != 0);
      std::string tlla = "absent";
      if (n >= 32 && message[24] == 2 && message[25] == 1) {
        tlla = mac_text(message + 26);
        if (tlla == pa_mac) tlla = "pa";
      }
      last = std::string(flags) + " tlla=" + tlla;
      return true;
    });
    return "advertisements seen: " + std::to_string(seen) + ", last: " + last;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "advertisements seen: 3, last: router=0 solicited=0 override=1 tlla=pa");
}

TEST(NeighbourProbe, Ipv4FindsTheHolderAndNobodyElse) {
  const std::string report = in_private_network([]() -> std::string {
    const std::string held = describe(probe_address("pa", address("10.77.0.2"), 300ms));
    const std::string free = describe(probe_address("pa", address("10.77.0.99"), 300ms));
    const std::string pb_mac = mac_of("pb");
    return "10.77.0.2: " + (held == pb_mac ? "pb" : held) + ", 10.77.0.99: " + free;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "10.77.0.2: pb, 10.77.0.99: nobody");
}

TEST(NeighbourProbe, Ipv6FindsTheHolderAndNobodyElse) {
  const std::string report = in_private_network([]() -> std::string {
    const std::string held = describe(probe_address("pa", address("fd00:77::2"), 300ms));
    const std::string free = describe(probe_address("pa", address("fd00:77::99"), 300ms));
    const std::string pb_mac = mac_of("pb");
    return "fd00:77::2: " + (held == pb_mac ? "pb" : held) + ", fd00:77::99: " + free;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "fd00:77::2: pb, fd00:77::99: nobody");
}

TEST(NeighbourAnnounce, ReportsUnusableInterfaces) {
  const std::string report = in_private_network([]() -> std::string {
    const directory::IpAddress v4 = address("10.77.0.50");
    const directory::IpAddress v6 = address("fd00:77::50");
    std::string out = "nosuchif0 " + error_code(announce_address("nosuchif0", v4)) + "/" +
                      error_code(probe_address("nosuchif0", v6, 10ms));
    out += ", lo " + error_code(announce_address("lo", v6)) + "/" +
           error_code(probe_address("lo", v4, 10ms));
    if (std::system("ip link set pa down") != 0) return "setup failed: ip link set pa down";
    out += ", pa down " + error_code(announce_address("pa", v4)) + "/" +
           error_code(probe_address("pa", v6, 10ms));
    return out;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  const std::string enodev = std::to_string(ENODEV);
  const std::string einval = std::to_string(EINVAL);
  const std::string enetdown = std::to_string(ENETDOWN);
  EXPECT_EQ(report, "nosuchif0 " + enodev + "/" + enodev + ", lo " + einval + "/" + einval +
                        ", pa down " + enetdown + "/" + enetdown);
}

}  // namespace
}  // namespace postcore::netcfg
