// The lockout guard's view of SSH sessions: established sockets on a local port, read from
// the kernel's /proc/net/tcp and tcp6 text.
#include "control/netcfg/tcp_sessions.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace postcore::netcfg {
namespace {

using Addresses = std::vector<std::string>;

constexpr std::string_view kHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n";

TEST(TcpSessions, EstablishedIpv4SessionsOnThePort) {
  const std::string table =
      std::string(kHeader) +
      // 192.0.2.25:22 established, twice (two sessions to one address)
      "   0: 190200C0:0016 0A0200C0:C350 01 00000000:00000000 00:00000000 00000000 0 0 1\n"
      "   1: 190200C0:0016 0A0200C0:C351 01 00000000:00000000 00:00000000 00000000 0 0 2\n"
      // 0.0.0.0:22 listening
      "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3\n"
      // 192.0.2.26:25 established, another port
      "   3: 1A0200C0:0019 0A0200C0:C352 01 00000000:00000000 00:00000000 00000000 0 0 4\n"
      // 192.0.2.27:22 in TIME_WAIT
      "   4: 1B0200C0:0016 0A0200C0:C353 06 00000000:00000000 00:00000000 00000000 0 0 5\n"
      "garbage\n"
      "   5: 1C0200C0:ZZZZ 0A0200C0:C354 01\n";
  EXPECT_EQ(parse_established(table, false, 22), Addresses{"192.0.2.25"});
  EXPECT_EQ(parse_established(table, false, 25), Addresses{"192.0.2.26"});
  EXPECT_EQ(parse_established(table, false, 2222), Addresses{});
}

TEST(TcpSessions, Ipv6AndIpv4MappedSessions) {
  const std::string table =
      std::string(kHeader) +
      // [2001:db8::25]:22
      "   0: B80D0120000000000000000025000000:0016 B80D0120000000000000000001000000:C350 01 "
      "00000000:00000000 00:00000000 00000000 0 0 1\n"
      // [::ffff:127.0.0.1]:22, an IPv4 client of a dual-stack sshd
      "   1: 0000000000000000FFFF00000100007F:0016 0000000000000000FFFF00000100007F:C351 01 "
      "00000000:00000000 00:00000000 00000000 0 0 2\n"
      // an IPv4 address in the IPv6 table's width is refused
      "   2: 0100007F:0016 0100007F:C352 01 00000000:00000000 00:00000000 00000000 0 0 3\n";
  EXPECT_EQ(parse_established(table, true, 22), (Addresses{"2001:db8::25", "127.0.0.1"}));
}

// A session of this test's own, on loopback, shows in the kernel's table.
TEST(TcpSessions, SeesAnEstablishedSessionOfThisProcess) {
  const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(server, 1), 0);
  ASSERT_EQ(::getsockname(server, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t port = ntohs(address.sin_port);
  auto before = established_to_port(port);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(*before, Addresses{});
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), length), 0);
  auto during = established_to_port(port);
  ASSERT_TRUE(during.ok()) << during.error().message;
  EXPECT_EQ(*during, Addresses{"127.0.0.1"});
  ::close(client);
  ::close(server);
}

}  // namespace
}  // namespace postcore::netcfg
