// CIDR parsing and matching for the relay check.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace postcore::directory
