// Rtnetlink against a real kernel: each test forks a child into a fresh network namespace
// with a veth pair (pa, pb, both down unless the test brings them up), so the test
// process's own network is never touched. The child reports one line through a pipe and
// the parent asserts on it, as neighbour_announce_test.cc does.
#include "control/netcfg/rtnetlink.h"

#include "tests/unit/netcfg/private_network.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace postcore::netcfg {
namespace {

directory::IpAddress address(const char* text) {
  std::optional<directory::IpAddress> parsed = directory::parse_ip_address(text);
  if (!parsed) std::abort();
  return *parsed;
}

// Runs `commands` (with `ip`) in the child; the first failure is the report.
std::string run(std::initializer_list<const char*> commands) {
  for (const char* command : commands) {
    if (std::system(command) != 0) return std::string("setup failed: ") + command;
  }
  return "";
}

// The child's network holds the veth pair; `body` gets a netlink socket opened inside it
// (a netlink socket belongs to the namespace it was made in).
std::string in_private_network(const std::function<std::string(Rtnetlink&)>& body) {
  return testing::in_private_network([&]() -> std::string {
    if (std::string failed = run({"ip link add pa type veth peer name pb"}); !failed.empty())
      return failed;
    auto netlink = Rtnetlink::open();
    return netlink ? body(**netlink) : "open failed: " + netlink.error().message;
  });
}

using testing::skipped;

int ifindex(const char* name) {
  return static_cast<int>(if_nametoindex(name));
}

std::string error_code(const Result<void>& result) {
  return result ? "ok" : std::to_string(result.error().code);
}

// "ok", or the code and the message: "17 (adding ...)".
std::string error_text(const Result<void>& result) {
  std::string out = error_code(result);
  if (!result) out.append(" (").append(result.error().message).append(")");
  return out;
}

// The addresses of `interface` except IPv6 link-local ones (which the kernel adds by
// itself when a link comes up), sorted: "ADDRESS/PREFIX label=L proto=P".
std::string describe_addresses(Rtnetlink& netlink, const char* interface) {
  auto all = netlink.addresses();
  if (!all) return "addresses failed: " + all.error().message;
  std::vector<std::string> lines;
  for (const SystemAddress& a : *all) {
    if (a.interface != interface) continue;
    if (a.address.v6 && a.address.bytes[0] == 0xfe && (a.address.bytes[1] & 0xc0) == 0x80) continue;
    char proto[8];
    std::snprintf(proto, sizeof(proto), "%#x", a.proto);
    std::string line = directory::format_ip_address(a.address) + "/" + std::to_string(a.prefix) +
                       " label=" + a.label + " proto=" + proto;
    if (a.ifindex != ifindex(interface)) line += " ifindex=" + std::to_string(a.ifindex);
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out.empty() ? "none" : out;
}

// What `command` prints, for checking a detail SystemAddress does not carry.
std::string output_of(const char* command) {
  FILE* pipe = popen(command, "r");
  if (!pipe) return "";
  std::string out;
  char buffer[512];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// The names of default_route_interfaces(), sorted and joined with "+", or "none".
std::string default_route_names(Rtnetlink& netlink) {
  auto defaults = netlink.default_route_interfaces();
  if (!defaults) return "failed: " + defaults.error().message;
  std::vector<std::string> names;
  for (int i : *defaults) {
    char name[IF_NAMESIZE] = {};
    names.push_back(if_indextoname(static_cast<unsigned>(i), name) ? name : std::to_string(i));
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : "+") + n;
  return out.empty() ? "none" : out;
}

TEST(Rtnetlink, InterfacesListsEveryLinkWithItsState) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    if (std::string failed = run({"ip link set pa up"}); !failed.empty()) return failed;
    auto links = netlink.interfaces();
    if (!links) return "interfaces failed: " + links.error().message;
    std::vector<std::string> lines;
    for (const Interface& i : *links) {
      std::string line = i.name + (i.up ? " up" : " down");
      if (i.ifindex != ifindex(i.name.c_str())) line += " ifindex=" + std::to_string(i.ifindex);
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& line : lines) out += (out.empty() ? "" : ", ") + line;
    return out;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  // A new namespace's loopback starts down.
  EXPECT_EQ(report, "lo down, pa up, pb down");
}

TEST(Rtnetlink, AddedAddressesCarryTheMarkAndOthersDoNot) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    const int pa = ifindex("pa");
    std::string out =
        "v4 " + error_code(netlink.add_address(pa, address("10.77.0.10"), 24, "pa:web"));
    out += ", v6 " + error_code(netlink.add_address(pa, address("fd00:77::10"), 64, ""));
    out += ", host " + error_code(netlink.add_address(pa, address("10.78.0.1"), 32, ""));
    if (std::string failed = run(
            {"ip address add 10.77.0.11/24 dev pa", "ip address add fd00:77::11/64 nodad dev pa"});
        !failed.empty())
      return failed;
    out += " | " + describe_addresses(netlink, "pa");
    out += " | pb: " + describe_addresses(netlink, "pb");
    // The subnet's broadcast address is set as `ip address add ... brd +` sets it.
    const std::string shown = output_of("ip -o -4 address show dev pa");
    out += " | brd ";
    out += shown.find("10.77.0.10/24 brd 10.77.0.255 ") != std::string::npos ? "set" : shown;
    return out;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report,
            "v4 ok, v6 ok, host ok | "
            "10.77.0.10/24 label=pa:web proto=0x70; 10.77.0.11/24 label=pa proto=0; "
            "10.78.0.1/32 label=pa proto=0x70; fd00:77::10/64 label= proto=0x70; "
            "fd00:77::11/64 label= proto=0 | pb: none | brd set");
}

TEST(Rtnetlink, AddingTwiceOrToNoInterfaceFails) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    const int pa = ifindex("pa");
    std::string out;
    for (const char* text : {"10.77.0.10", "fd00:77::10"}) {
      const directory::IpAddress a = address(text);
      const int prefix = a.v6 ? 64 : 24;
      // Appended piece by piece: GCC 12 warns (-Wrestrict) wrongly on "/" + std::string.
      out.append(text).append(" ").append(error_code(netlink.add_address(pa, a, prefix, "")));
      out.append("/").append(error_text(netlink.add_address(pa, a, prefix, "")));
      out.append("/").append(error_code(netlink.add_address(999999, a, prefix, ""))).append(", ");
    }
    return out + describe_addresses(netlink, "pa");
  });
  if (skipped(report)) GTEST_SKIP() << report;
  const std::string eexist = std::to_string(EEXIST);
  const std::string enodev = std::to_string(ENODEV);
  // The error names the address; the rest of its text is strerror's.
  EXPECT_EQ(report, "10.77.0.10 ok/" + eexist + " (adding 10.77.0.10/24: " + std::strerror(EEXIST) +
                        ")/" + enodev + ", fd00:77::10 ok/" + eexist +
                        " (adding fd00:77::10/64: " + std::strerror(EEXIST) + ")/" + enodev +
                        ", 10.77.0.10/24 label=pa proto=0x70; fd00:77::10/64 label= proto=0x70");
}

TEST(Rtnetlink, RemovesAddressesAndSaysWhenOneIsAbsent) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    const int pa = ifindex("pa");
    std::string out = "add " + error_code(netlink.add_address(pa, address("10.77.0.10"), 24, "")) +
                      "/" + error_code(netlink.add_address(pa, address("10.77.0.12"), 24, "")) +
                      "/" + error_code(netlink.add_address(pa, address("fd00:77::10"), 64, ""));
    if (std::string failed = run({"ip address add 10.77.0.11/24 dev pa"}); !failed.empty())
      return failed;
    out += ", remove " + error_code(netlink.remove_address(pa, address("10.77.0.10"), 24)) + "/" +
           error_code(netlink.remove_address(pa, address("fd00:77::10"), 64));
    out += " | " + describe_addresses(netlink, "pa");
    out += " | again " + error_text(netlink.remove_address(pa, address("10.77.0.10"), 24));
    out += "/" + error_code(netlink.remove_address(pa, address("fd00:77::10"), 64));
    out += "/" + error_code(netlink.remove_address(pa, address("10.77.0.99"), 24));
    return out;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  const std::string eaddrnotavail = std::to_string(EADDRNOTAVAIL);
  EXPECT_EQ(report,
            "add ok/ok/ok, remove ok/ok | "
            "10.77.0.11/24 label=pa proto=0; 10.77.0.12/24 label=pa proto=0x70 | again " +
                eaddrnotavail + " (removing 10.77.0.10/24: " + std::strerror(EADDRNOTAVAIL) + ")/" +
                eaddrnotavail + "/" + eaddrnotavail);
}

TEST(Rtnetlink, DefaultRouteInterfacesOfBothFamilies) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    std::string out = "start " + default_route_names(netlink);
    // Routes that are not default ones, and a default route outside the main table.
    if (std::string failed =
            run({"ip link set pa up", "ip link set pb up", "ip address add 10.77.0.1/24 dev pa",
                 "ip route add 10.99.0.0/16 dev pa", "ip route add default dev pa table 100"});
        !failed.empty())
      return failed;
    out += ", other routes " + default_route_names(netlink);
    if (std::string failed = run({"ip route add default dev pa"}); !failed.empty()) return failed;
    out += ", v4 " + default_route_names(netlink);
    if (std::string failed =
            run({"ip -6 address add fd00:77::2/64 nodad dev pb", "ip -6 route add default dev pb"});
        !failed.empty())
      return failed;
    out += ", v6 " + default_route_names(netlink);
    if (std::string failed = run({"ip route del default dev pa"}); !failed.empty()) return failed;
    out += ", v4 gone " + default_route_names(netlink);
    return out;
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "start none, other routes none, v4 pa, v6 pa+pb, v4 gone pb");
}

// A multipath default route has its interfaces in RTA_MULTIPATH, not RTA_OIF; each of
// them carries the default route (the lockout guard depends on it).
TEST(Rtnetlink, DefaultRouteInterfacesOfMultipathRoutes) {
  const std::string report = in_private_network([](Rtnetlink& netlink) -> std::string {
    if (std::string failed =
            run({"ip link add pc type veth peer name pd", "ip link set pa up", "ip link set pb up",
                 "ip link set pc up", "ip route add default nexthop dev pa nexthop dev pb"});
        !failed.empty())
      return failed;
    std::string out = "v4 " + default_route_names(netlink);
    if (std::string failed =
            run({"ip route del default", "ip -6 address add fd00:77::1/64 nodad dev pb",
                 "ip -6 address add fd00:78::1/64 nodad dev pc",
                 "ip -6 route add default nexthop via fd00:77::2 dev pb nexthop via fd00:78::2 "
                 "dev pc"});
        !failed.empty())
      return failed;
    return out + ", v6 " + default_route_names(netlink);
  });
  if (skipped(report)) GTEST_SKIP() << report;
  EXPECT_EQ(report, "v4 pa+pb, v6 pb+pc");
}

}  // namespace
}  // namespace postcore::netcfg
