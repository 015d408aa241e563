// compare(): the stored IP aliases against the system's addresses, one table row per
// situation `ip list` reports and `ip sync` acts on.
#include "control/netcfg/alias_drift.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace postcore::netcfg {
namespace {

constexpr uint8_t kUnmarked = 0;
constexpr uint8_t kKernelLo = 1;  // IFAPROT_KERNEL_LO: an address the kernel made itself

store::IpAlias stored(const char* address, int prefix, const char* interface,
                      const char* label = "") {
  store::IpAlias a;
  a.address = address;
  a.prefix = prefix;
  a.interface = interface;
  a.label = label;
  return a;
}

struct Flags {
  bool tentative = false;
  bool dad_failed = false;
};

SystemAddress on_system(const char* interface, const char* address, int prefix, uint8_t proto,
                        const char* label = "", Flags flags = {}) {
  std::optional<directory::IpAddress> parsed = directory::parse_ip_address(address);
  if (!parsed) std::abort();
  SystemAddress s;
  s.interface = interface;
  s.address = *parsed;
  s.prefix = prefix;
  s.label = label;
  s.proto = proto;
  s.tentative = flags.tentative;
  s.dad_failed = flags.dad_failed;
  return s;
}

// "ADDRESS/PREFIX INTERFACE [label L] STATE [at ACTUAL]".
std::string describe(const AliasStatus& s) {
  std::string out =
      s.alias.address + "/" + std::to_string(s.alias.prefix) + " " + s.alias.interface;
  if (!s.alias.label.empty()) out += " label " + s.alias.label;
  out += " " + std::string(to_string(s.state));
  if (!s.actual().empty()) out += " at " + s.actual();
  return out;
}

struct Case {
  const char* name;
  std::vector<store::IpAlias> stored;
  std::vector<SystemAddress> system;
  std::vector<std::string> expected;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class Compare : public ::testing::TestWithParam<Case> {};

TEST_P(Compare, ReportsEachAliasOnceInOrder) {
  std::vector<std::string> got;
  for (const AliasStatus& s : compare(GetParam().stored, GetParam().system))
    got.push_back(describe(s));
  EXPECT_EQ(got, GetParam().expected) << GetParam().name;
}

// The loopback and a link-local address every system has, which no row may mention.
const SystemAddress kLo = on_system("lo", "127.0.0.1", 8, kUnmarked, "lo");
const SystemAddress kLinkLocal = on_system("eth0", "fe80::1", 64, kKernelLo);

const Case kCases[] = {
    {"nothing stored, nothing marked", {}, {kLo, kLinkLocal}, {}},
    {"up",
     {stored("192.0.2.25", 24, "eth0", "eth0:mail")},
     {kLo, on_system("eth0", "192.0.2.25", 24, kAddressProto, "eth0:mail")},
     {"192.0.2.25/24 eth0 label eth0:mail up"}},
    {"ipv6 up",
     {stored("2001:db8::25", 64, "eth0")},
     {kLinkLocal, on_system("eth0", "2001:db8::25", 64, kAddressProto)},
     {"2001:db8::25/64 eth0 up"}},
    {"tentative",
     {stored("2001:db8::25", 64, "eth0")},
     {on_system("eth0", "2001:db8::25", 64, kAddressProto, "", {.tentative = true})},
     {"2001:db8::25/64 eth0 tentative"}},
    // The kernel keeps the tentative flag on an address whose DAD failed.
    {"dad failed",
     {stored("2001:db8::25", 64, "eth0")},
     {on_system("eth0", "2001:db8::25", 64, kAddressProto, "",
                {.tentative = true, .dad_failed = true})},
     {"2001:db8::25/64 eth0 dad-failed"}},
    {"missing",
     {stored("192.0.2.25", 24, "eth0")},
     {kLo, on_system("eth0", "192.0.2.26", 24, kAddressProto)},
     {"192.0.2.25/24 eth0 missing", "192.0.2.26/24 eth0 stray"}},
    {"elsewhere: another interface",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth1", "192.0.2.25", 24, kAddressProto, "eth1")},
     {"192.0.2.25/24 eth0 elsewhere at eth1 /24"}},
    {"elsewhere: another prefix",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth0", "192.0.2.25", 16, kAddressProto, "eth0")},
     {"192.0.2.25/24 eth0 elsewhere at eth0 /16"}},
    {"foreign in the right place",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth0", "192.0.2.25", 24, kUnmarked, "eth0")},
     {"192.0.2.25/24 eth0 foreign at eth0 /24"}},
    {"foreign with another protocol's mark",
     {stored("2001:db8::25", 64, "eth0")},
     {on_system("eth0", "2001:db8::25", 64, kKernelLo)},
     {"2001:db8::25/64 eth0 foreign at eth0 /64"}},
    {"foreign elsewhere",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth1", "192.0.2.25", 32, kUnmarked, "eth1")},
     {"192.0.2.25/24 eth0 foreign at eth1 /32"}},
    {"stray with the interface as its label",
     {},
     {kLo, on_system("eth0", "192.0.2.99", 24, kAddressProto, "eth0")},
     {"192.0.2.99/24 eth0 stray"}},
    {"stray keeps its own label",
     {},
     {on_system("eth0", "192.0.2.99", 24, kAddressProto, "eth0:old")},
     {"192.0.2.99/24 eth0 label eth0:old stray"}},
    {"unmarked addresses are never strays",
     {},
     {on_system("eth0", "192.0.2.99", 24, kUnmarked, "eth0"),
      on_system("eth0", "2001:db8::99", 64, kKernelLo)},
     {}},
    // Where it belongs decides even when the system lists the other place first; the
    // other place is postcore's too, and sync takes it away.
    {"up, and marked in a second place",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth1", "192.0.2.25", 24, kAddressProto, "eth1"),
      on_system("eth0", "192.0.2.25", 24, kAddressProto, "eth0")},
     {"192.0.2.25/24 eth0 up", "192.0.2.25/24 eth1 stray"}},
    {"up, and marked with a second prefix",
     {stored("192.0.2.25", 24, "eth0")},
     {on_system("eth0", "192.0.2.25", 24, kAddressProto, "eth0"),
      on_system("eth0", "192.0.2.25", 28, kAddressProto, "eth0")},
     {"192.0.2.25/24 eth0 up", "192.0.2.25/28 eth0 stray"}},
    {"ipv6 compared as addresses, not text",
     {stored("2001:db8::25", 64, "eth0")},
     {on_system("eth0", "2001:DB8:0:0::25", 64, kAddressProto)},
     {"2001:db8::25/64 eth0 up"}},
    {"stored order, then strays in system order",
     {stored("2001:db8::25", 64, "eth1"), stored("192.0.2.30", 24, "eth0"),
      stored("192.0.2.25", 24, "eth0")},
     {on_system("eth0", "192.0.2.98", 24, kAddressProto, "eth0"),
      on_system("eth0", "192.0.2.25", 24, kAddressProto, "eth0"),
      on_system("eth1", "2001:db8::97", 64, kAddressProto),
      on_system("eth1", "2001:db8::25", 64, kAddressProto)},
     {"2001:db8::25/64 eth1 up", "192.0.2.30/24 eth0 missing", "192.0.2.25/24 eth0 up",
      "192.0.2.98/24 eth0 stray", "2001:db8::97/64 eth1 stray"}},
};

INSTANTIATE_TEST_SUITE_P(AliasDrift, Compare, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return "case" + std::to_string(info.index);
                         });

// A row carries the stored alias whole (domain, services), which `ip list` shows.
TEST(AliasDrift, StoredRowsKeepEveryField) {
  store::IpAlias a = stored("192.0.2.25", 24, "eth0", "eth0:mail");
  a.domain = "example.com";
  a.services = {"smtp", "submission"};
  std::vector<AliasStatus> rows = compare({a}, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].alias.domain, "example.com");
  EXPECT_EQ(rows[0].alias.services, (std::vector<std::string>{"smtp", "submission"}));
  EXPECT_EQ(rows[0].alias.label, "eth0:mail");
  EXPECT_EQ(rows[0].actual(), "");
}

TEST(AliasDrift, SyncActsOnMissingElsewhereAndStrayOnly) {
  const struct {
    AliasState state;
    const char* text;
    bool sync;
  } states[] = {
      {AliasState::up, "up", false},
      {AliasState::tentative, "tentative", false},
      {AliasState::dad_failed, "dad-failed", false},
      {AliasState::missing, "missing", true},
      {AliasState::elsewhere, "elsewhere", true},
      {AliasState::foreign, "foreign", false},
      {AliasState::stray, "stray", true},
  };
  for (const auto& s : states) {
    EXPECT_EQ(to_string(s.state), s.text);
    EXPECT_EQ(needs_sync(s.state), s.sync) << s.text;
  }
}

}  // namespace
}  // namespace postcore::netcfg
