// CIDR parsing and matching for the relay check.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "control/directory/ip_network.h"

namespace postcore::directory {
namespace {

bool contains(const char* cidr, const char* client) {
  Result<IpNetwork> network = IpNetwork::parse(cidr);
  EXPECT_TRUE(network.ok()) << cidr;
  std::optional<IpAddress> address = parse_ip_address(client);
  EXPECT_TRUE(address.has_value()) << client;
  return network.ok() && address && network->contains(*address);
}

TEST(IpNetwork, Ipv4Prefixes) {
  EXPECT_TRUE(contains("192.0.2.0/24", "192.0.2.0"));
  EXPECT_TRUE(contains("192.0.2.0/24", "192.0.2.255"));
  EXPECT_FALSE(contains("192.0.2.0/24", "192.0.3.0"));
  EXPECT_TRUE(contains("10.0.0.0/9", "10.127.255.255"));
  EXPECT_FALSE(contains("10.0.0.0/9", "10.128.0.0"));
  EXPECT_TRUE(contains("0.0.0.0/0", "203.0.113.1"));
  EXPECT_TRUE(contains("203.0.113.7", "203.0.113.7"));
  EXPECT_FALSE(contains("203.0.113.7", "203.0.113.6"));
  EXPECT_TRUE(contains("203.0.113.7/32", "203.0.113.7"));
}

TEST(IpNetwork, Ipv6Prefixes) {
  EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(contains("2001:db8::/32", "2001:db9::"));
  EXPECT_TRUE(contains("2001:db8:8000::/33", "2001:db8:8000::1"));
  EXPECT_FALSE(contains("2001:db8:8000::/33", "2001:db8:7fff::1"));
  EXPECT_TRUE(contains("::1", "::1"));
  EXPECT_TRUE(contains("::/0", "fe80::1"));
  EXPECT_TRUE(contains("fe80::/10", "fe80::1%eth0"));
}

TEST(IpNetwork, FamiliesDoNotMix) {
  EXPECT_FALSE(contains("0.0.0.0/0", "::1"));
  EXPECT_FALSE(contains("::/0", "192.0.2.1"));
}

TEST(IpNetwork, Ipv4MappedAddressesAreIpv4) {
  EXPECT_TRUE(contains("192.0.2.0/24", "::ffff:192.0.2.1"));
  EXPECT_TRUE(contains("::ffff:192.0.2.0/120", "192.0.2.1"));
  EXPECT_FALSE(contains("::ffff:192.0.2.0/120", "192.0.3.1"));
}

TEST(IpNetwork, RejectsMalformedNetworks) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x",
                          "10.0.0.0/ 8", "10.0.0/8", "10.0.0.256/32", "::/129", "2001:db8::1/32",
                          "10.1.0.0/8", "example.com", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(IpNetwork::parse(bad).ok()) << "'" << bad << "'";
  }
}

TEST(IpNetwork, RejectsMalformedClientAddresses) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "::g", "[::1]", "1.2.3.4 ", "localhost"}) {
    EXPECT_FALSE(parse_ip_address(bad).has_value()) << "'" << bad << "'";
  }
}

struct GoodInterfaceAddress {
  const char* text;
  const char* address;  // as format_ip_address writes it
  int prefix;
  bool v6;
};

TEST(InterfaceAddress, AcceptsAddressesWithAndWithoutPrefix) {
  const GoodInterfaceAddress cases[] = {
      {"192.0.2.10/24", "192.0.2.10", 24, false},
      {"192.0.2.10", "192.0.2.10", 32, false},
      {"192.0.2.10/1", "192.0.2.10", 1, false},
      {"192.0.2.10/32", "192.0.2.10", 32, false},
      {"2001:db8::10/64", "2001:db8::10", 64, true},
      {"2001:db8::10", "2001:db8::10", 128, true},
      {"2001:db8::10/128", "2001:db8::10", 128, true},
      // Written any way inet_pton takes, an address comes back in one canonical text,
      // which is what the store compares and keys on.
      {"2001:0db8::0010", "2001:db8::10", 128, true},
      {"2001:DB8:0:0::10/48", "2001:db8::10", 48, true},
  };
  for (const GoodInterfaceAddress& c : cases) {
    Result<InterfaceAddress> parsed = parse_interface_address(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(format_ip_address(parsed->address), c.address) << c.text;
    EXPECT_EQ(parsed->prefix, c.prefix) << c.text;
    EXPECT_EQ(parsed->address.v6, c.v6) << c.text;
  }
}

TEST(InterfaceAddress, FormatIsInetNtopText) {
  EXPECT_EQ(format_ip_address(*parse_ip_address("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(format_ip_address(*parse_ip_address("2001:DB8:0000::0001")), "2001:db8::1");
  // A dual-stack socket's IPv4-mapped text is the IPv4 address.
  EXPECT_EQ(format_ip_address(*parse_ip_address("::ffff:192.0.2.1")), "192.0.2.1");
}

TEST(InterfaceAddress, RefusesWithOneLineNamingTheText) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"junk", "address 'junk': not an IPv4 or IPv6 address"},
      {"", "address '': not an IPv4 or IPv6 address"},
      {"192.0.2", "address '192.0.2': not an IPv4 or IPv6 address"},
      {"192.0.2.256/24", "address '192.0.2.256/24': not an IPv4 or IPv6 address"},
      {"fe80::1%eth0", "address 'fe80::1%eth0': not an IPv4 or IPv6 address"},
      {"192.0.2.10/0", "address '192.0.2.10/0': prefix length must be 1 to 32"},
      {"192.0.2.10/33", "address '192.0.2.10/33': prefix length must be 1 to 32"},
      {"192.0.2.10/", "address '192.0.2.10/': prefix length must be 1 to 32"},
      {"192.0.2.10/24x", "address '192.0.2.10/24x': prefix length must be 1 to 32"},
      {"192.0.2.10/-1", "address '192.0.2.10/-1': prefix length must be 1 to 32"},
      {"192.0.2.10/24/24", "address '192.0.2.10/24/24': prefix length must be 1 to 32"},
      {"2001:db8::10/0", "address '2001:db8::10/0': prefix length must be 1 to 128"},
      {"2001:db8::10/129", "address '2001:db8::10/129': prefix length must be 1 to 128"},
      {"0.0.0.0", "address '0.0.0.0': the unspecified address cannot be an alias"},
      {"0.0.0.0/8", "address '0.0.0.0/8': the unspecified address cannot be an alias"},
      {"::", "address '::': the unspecified address cannot be an alias"},
      {"::/64", "address '::/64': the unspecified address cannot be an alias"},
      {"224.0.0.1", "address '224.0.0.1': a multicast address cannot be an alias"},
      {"239.255.255.250/24",
       "address '239.255.255.250/24': a multicast address cannot be an alias"},
      {"ff02::1", "address 'ff02::1': a multicast address cannot be an alias"},
      {"255.255.255.255", "address '255.255.255.255': the broadcast address cannot be an alias"},
      {"fe80::1", "address 'fe80::1': a link-local address cannot be an alias"},
      {"febf::1/64", "address 'febf::1/64': a link-local address cannot be an alias"},
  };
  for (const auto& c : cases) {
    Result<InterfaceAddress> parsed = parse_interface_address(c.text);
    ASSERT_FALSE(parsed.ok()) << "'" << c.text << "' was accepted";
    EXPECT_EQ(parsed.error().code, EINVAL) << c.text;
    EXPECT_EQ(parsed.error().message, c.message);
  }
}

// The refusals are exact: their neighbours are ordinary addresses.
TEST(InterfaceAddress, AcceptsTheNeighboursOfRefusedRanges) {
  for (const char* good : {"0.0.0.1", "::2", "223.255.255.255", "240.0.0.1", "255.255.255.254",
                           "fec0::1", "fe7f::1", "fe00::1", "fd00::1"}) {
    Result<InterfaceAddress> parsed = parse_interface_address(good);
    EXPECT_TRUE(parsed.ok()) << good << ": " << parsed.error().message;
  }
}

}  // namespace
}  // namespace postcore::directory
