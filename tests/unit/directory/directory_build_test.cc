// Directory::build: every inconsistency a snapshot can carry is refused with one line
// that names the objects involved.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <string>

#include "control/directory/directory.h"
#include "tests/unit/directory/sample_directory.h"

namespace postcore::directory {
namespace {

struct BadCase {
  const char* name;
  std::function<void(DirectoryData&)> spoil;
  const char* message;  // a part of the error message
};

const BadCase kBadCases[] = {
    {"domain listed twice",
     [](DirectoryData& d) {
       d.domains.push_back({"Example.com", {}, ""});
     },
     "domain 'example.com' is listed twice"},
    {"empty domain",
     [](DirectoryData& d) {
       d.domains.push_back({"", {}, ""});
     },
     "domain '' is not a domain name"},
    {"domain alias that is a domain",
     [](DirectoryData& d) { d.domains[1].aliases.push_back("fwd.test"); },
     "domain alias 'fwd.test' of 'catchall.test' is also a domain"},
    {"domain alias of two domains",
     [](DirectoryData& d) { d.domains[1].aliases.push_back("EXAMPLE.net"); },
     "domain alias 'example.net' of 'catchall.test' is already an alias of 'example.com'"},
    {"domain alias equal to its own domain",
     [](DirectoryData& d) { d.domains[1].aliases.push_back("catchall.test"); },
     "domain alias 'catchall.test' of 'catchall.test' is also a domain"},
    {"two accounts, one name",
     [](DirectoryData& d) {
       d.accounts.push_back({"ALICE", "example.com", "", "", kAllServices, 0});
     },
     "'alice@example.com' is defined twice: as account and as account"},
    {"group named like an account",
     [](DirectoryData& d) {
       d.groups.push_back({"bob", "example.com", "", {}});
     },
     "'bob@example.com' is defined twice: as account and as group"},
    {"forwarder named like an alias",
     [](DirectoryData& d) {
       d.forwarders.push_back({"al", "example.com", "x@y.example"});
     },
     "'al@example.com' is defined twice: as account alias and as forwarder"},
    {"object in an unknown domain",
     [](DirectoryData& d) {
       d.accounts.push_back({"zed", "nowhere.example", "", "", kAllServices, 0});
     },
     "account 'zed@nowhere.example': 'nowhere.example' is not a local domain"},
    {"object in an alias domain",
     [](DirectoryData& d) {
       d.accounts.push_back({"zed", "example.net", "", "", kAllServices, 0});
     },
     "'example.net' is an alias of 'example.com'"},
    {"empty object name",
     [](DirectoryData& d) {
       d.groups.push_back({"", "example.com", "", {}});
     },
     "group '@example.com': the name must be non-empty"},
    {"'@' in an object name",
     [](DirectoryData& d) {
       d.forwarders.push_back({"a@b", "example.com", "x@y.example"});
     },
     "forwarder 'a@b@example.com': the name must be non-empty and hold no '@'"},
    {"alias of no account",
     [](DirectoryData& d) {
       d.account_aliases.push_back({"zz", "example.com", "nobody"});
     },
     "account alias 'zz@example.com' names 'nobody@example.com', which is not an account"},
    {"alias of a group",
     [](DirectoryData& d) {
       d.account_aliases.push_back({"zz", "example.com", "team"});
     },
     "names 'team@example.com', which is not an account"},
    {"alias of an account in another domain",
     [](DirectoryData& d) {
       d.account_aliases.push_back({"zz", "example.com", "bucket"});
     },
     "names 'bucket@example.com', which is not an account"},
    {"forwarder target without a domain",
     [](DirectoryData& d) {
       d.forwarders.push_back({"f", "example.com", "bob"});
     },
     "forwarder 'f@example.com': target 'bob' is not a full address"},
    {"group member without a local part",
     [](DirectoryData& d) { d.groups[0].members.push_back("@example.com"); },
     "group 'team@example.com': member '@example.com' is not a full address"},
    {"catch-all without a domain", [](DirectoryData& d) { d.domains[1].catch_all = "bucket@"; },
     "domain 'catchall.test': catch-all 'bucket@' is not a full address"},
    {"relay network with host bits",
     [](DirectoryData& d) { d.relay_networks.push_back("10.1.2.3/8"); },
     "relay network '10.1.2.3/8': address has bits set past the prefix length"},
    {"relay network that is no address",
     [](DirectoryData& d) { d.relay_networks.push_back("localhost"); },
     "relay network 'localhost': not an IPv4 or IPv6 address"},
    {"service address that is no IP address",
     [](DirectoryData& d) {
       d.service_addresses.push_back({"mail.example.com", "", {"smtp"}});
     },
     "directory: service address 'mail.example.com' is not an IP address"},
    {"service address with a prefix",
     [](DirectoryData& d) {
       d.service_addresses.push_back({"192.0.2.26/24", "", {}});
     },
     "directory: service address '192.0.2.26/24' is not an IP address"},
    {"service address bound to a domain that is not local",
     [](DirectoryData& d) {
       d.service_addresses.push_back({"192.0.2.26", "nowhere.example", {}});
     },
     "directory: service address 192.0.2.26: domain 'nowhere.example' is not a local domain"},
};

class BuildRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(BuildRejects, WithAClearMessage) {
  DirectoryData data = testing::sample_directory();
  GetParam().spoil(data);
  auto built = Directory::build(std::move(data));
  ASSERT_FALSE(built.ok()) << GetParam().name;
  EXPECT_EQ(built.error().code, EINVAL);
  EXPECT_NE(built.error().message.find(GetParam().message), std::string::npos)
      << GetParam().name << ": " << built.error().message;
  EXPECT_EQ(built.error().message.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Snapshots, BuildRejects, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return "case" + std::to_string(info.index);
                         });

TEST(Build, AcceptsTheSample) {
  auto built = Directory::build(testing::sample_directory());
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ((*built)->version(), 42u);
}

TEST(Build, AcceptsAnEmptyDirectory) {
  EXPECT_TRUE(Directory::build(DirectoryData{}).ok());
}

}  // namespace
}  // namespace postcore::directory
