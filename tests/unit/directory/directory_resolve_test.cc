// RCPT resolution against the sample directory, one row per rule.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "control/directory/directory.h"
#include "tests/unit/directory/sample_directory.h"

namespace postcore::directory {
namespace {

// Targets as "L:" local account, "I:" implicit local account, "R:" remote.
std::vector<std::string> describe(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const Target& t : targets) {
    std::string kind = t.kind == TargetKind::remote ? "R:" : (t.implicit ? "I:" : "L:");
    out.push_back(kind + t.address);
  }
  return out;
}

std::vector<std::string> describe(const std::vector<TrailStep>& trail) {
  std::vector<std::string> out;
  for (const TrailStep& s : trail) {
    out.push_back(std::to_string(s.depth) + " " + std::string(to_string(s.kind)) + " " + s.address);
  }
  return out;
}

struct Row {
  const char* rule;
  const char* address;
  const char* client_ip;
  Verdict verdict;
  std::vector<std::string> targets;
};

constexpr const char* kOutsider = "198.51.100.1";  // in no relay network

const Row kRows[] = {
    {"known account", "alice@example.com", kOutsider, Verdict::accept, {"L:alice@example.com"}},
    {"case of local part and domain",
     "ALICE@EXAMPLE.COM",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com"}},
    {"domain alias", "alice@example.net", kOutsider, Verdict::accept, {"L:alice@example.com"}},
    {"domain alias, stored with odd case and dot",
     "Alice@example.org",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com"}},
    {"trailing dot", "alice@example.com.", kOutsider, Verdict::accept, {"L:alice@example.com"}},
    {"unknown local", "ghost@example.com", kOutsider, Verdict::unknown_user, {}},
    {"unknown local in alias domain", "ghost@example.net", kOutsider, Verdict::unknown_user, {}},
    {"smtp service disabled", "carol@example.com", kOutsider, Verdict::disabled, {}},
    {"smtp-only account", "dave@example.com", kOutsider, Verdict::accept, {"L:dave@example.com"}},
    {"account alias", "al@example.com", kOutsider, Verdict::accept, {"L:alice@example.com"}},
    {"account keeping a copy and sending copies on, disabled and unknown ones skipped",
     "keeper@example.com",
     kOutsider,
     Verdict::accept,
     {"L:keeper@example.com", "R:Keeper@remote.example", "L:alice@example.com"}},
    {"alias of a disabled account", "carlos@example.com", kOutsider, Verdict::disabled, {}},
    {"forwarder to outside, case of local part kept",
     "ext@example.com",
     kOutsider,
     Verdict::accept,
     {"R:Someone@remote.example"}},
    {"forwarder to a local alias domain",
     "inner@example.com",
     kOutsider,
     Verdict::accept,
     {"L:bob@example.com"}},
    {"forwarder to a disabled account", "tocarol@example.com", kOutsider, Verdict::disabled, {}},
    {"forwarder to an unknown local name",
     "toghost@example.com",
     kOutsider,
     Verdict::unknown_user,
     {}},
    {"group: duplicates once, disabled and unknown skipped, nested, cycle",
     "team@example.com",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com", "R:partner@remote.example", "L:dave@example.com"}},
    {"nested group reached first",
     "sub@example.com",
     kOutsider,
     Verdict::accept,
     {"L:dave@example.com", "L:alice@example.com", "R:partner@remote.example"}},
    {"cycle with no member", "cycle-a@example.com", kOutsider, Verdict::disabled, {}},
    {"group of disabled members only",
     "disabledonly@example.com",
     kOutsider,
     Verdict::disabled,
     {}},
    {"catch-all", "anything@catchall.test", kOutsider, Verdict::accept, {"L:bucket@catchall.test"}},
    {"catch-all naming an unknown name of its own domain",
     "x@loop.test",
     kOutsider,
     Verdict::unknown_user,
     {}},
    {"catch-all to outside needs no relay permission",
     "x@fwd.test",
     kOutsider,
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"bare postmaster: the first domain's",
     "postmaster",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@example.com"}},
    {"bare postmaster, any case",
     "PostMaster",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@example.com"}},
    {"postmaster of an alias domain",
     "POSTMASTER@example.net",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@example.com"}},
    {"postmaster before catch-all",
     "postmaster@catchall.test",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@catchall.test"}},
    {"postmaster account disabled: still accepted",
     "postmaster@pm.test",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@pm.test"}},
    {"postmaster as a group",
     "postmaster@pmgroup.test",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com"}},
    {"postmaster with a tag",
     "postmaster+x@example.com",
     kOutsider,
     Verdict::accept,
     {"I:postmaster@example.com"}},
    {"relay denied", "someone@remote.example", kOutsider, Verdict::relay_denied, {}},
    {"relay: IPv4 network",
     "someone@remote.example",
     "192.0.2.7",
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"relay: /8",
     "someone@remote.example",
     "10.255.0.1",
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"relay: just outside /24", "someone@remote.example", "192.0.3.0", Verdict::relay_denied, {}},
    {"relay: IPv6 network",
     "someone@remote.example",
     "2001:db8:1::5",
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"relay: just outside IPv6 network",
     "someone@remote.example",
     "2001:db9::1",
     Verdict::relay_denied,
     {}},
    {"relay: IPv6 host",
     "someone@remote.example",
     "::1",
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"relay: next IPv6 host", "someone@remote.example", "::2", Verdict::relay_denied, {}},
    {"relay: IPv4-mapped client",
     "someone@remote.example",
     "::ffff:192.0.2.9",
     Verdict::accept,
     {"R:someone@remote.example"}},
    {"relay: no client address", "someone@remote.example", "", Verdict::relay_denied, {}},
    {"relay: unparsable client address",
     "someone@remote.example",
     "not-an-ip",
     Verdict::relay_denied,
     {}},
    {"relay: remote local part case kept, domain folded",
     "Someone@REMOTE.Example",
     "10.0.0.1",
     Verdict::accept,
     {"R:Someone@remote.example"}},
    {"relay: quoted local part with '@'",
     "\"a@b\"@remote.example",
     "10.0.0.1",
     Verdict::accept,
     {"R:\"a@b\"@remote.example"}},
    {"subaddress falls back to the account",
     "alice+news@example.com",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com"}},
    {"subaddress: an exact name wins",
     "bob+special@example.com",
     kOutsider,
     Verdict::accept,
     {"L:bob+special@example.com"}},
    {"subaddress of an alias",
     "al+x@example.com",
     kOutsider,
     Verdict::accept,
     {"L:alice@example.com"}},
    {"subaddress of an unknown name", "ghost+x@example.com", kOutsider, Verdict::unknown_user, {}},
    {"subaddress of an unknown name, catch-all",
     "ghost+x@catchall.test",
     kOutsider,
     Verdict::accept,
     {"L:bucket@catchall.test"}},
    {"empty name before the tag", "+x@example.com", kOutsider, Verdict::unknown_user, {}},
    {"quoted local part",
     "\"john doe\"@example.com",
     kOutsider,
     Verdict::accept,
     {"L:\"john doe\"@example.com"}},
    {"quoted local part, ASCII case folded",
     "\"John Doe\"@Example.com",
     kOutsider,
     Verdict::accept,
     {"L:\"john doe\"@example.com"}},
    {"quoted local part is not unquoted",
     "\"alice\"@example.com",
     kOutsider,
     Verdict::unknown_user,
     {}},
    {"no subaddress inside quotes",
     "\"alice+x\"@example.com",
     kOutsider,
     Verdict::unknown_user,
     {}},
    {"UTF-8 local part, ASCII folded",
     "M\xc3\xbcller@example.com",
     kOutsider,
     Verdict::accept,
     {"L:m\xc3\xbcller@example.com"}},
    {"UTF-8 bytes compare as they are",
     "M\xc3\x9cLLER@example.com",
     kOutsider,
     Verdict::unknown_user,
     {}},
    {"empty address", "", kOutsider, Verdict::unknown_user, {}},
    {"no domain", "alice", kOutsider, Verdict::unknown_user, {}},
    {"no local part", "@example.com", kOutsider, Verdict::unknown_user, {}},
    {"empty domain", "alice@", kOutsider, Verdict::unknown_user, {}},
};

class ResolveTable : public ::testing::TestWithParam<Row> {
 protected:
  static void SetUpTestSuite() {
    auto built = Directory::build(testing::sample_directory());
    ASSERT_TRUE(built.ok()) << built.error().message;
    directory_ = *built;
  }
  static void TearDownTestSuite() { directory_.reset(); }
  static std::shared_ptr<const Directory> directory_;
};
std::shared_ptr<const Directory> ResolveTable::directory_;

TEST_P(ResolveTable, Resolves) {
  const Row& row = GetParam();
  Resolution r = directory_->resolve(row.address, row.client_ip);
  EXPECT_EQ(to_string(r.verdict), to_string(row.verdict)) << row.rule << ": " << row.address;
  EXPECT_EQ(describe(r.targets), row.targets) << row.rule << ": " << row.address;
}

INSTANTIATE_TEST_SUITE_P(Rules, ResolveTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return "row" + std::to_string(info.index);
                         });

std::shared_ptr<const Directory> sample() {
  auto built = Directory::build(testing::sample_directory());
  EXPECT_TRUE(built.ok()) << built.error().message;
  return *built;
}

TEST(ResolveTrail, GroupRecordsEveryObjectCrossedAndEverySkip) {
  Resolution r = sample()->resolve("team@example.com", "");
  std::vector<std::string> expected = {
      "0 group team@example.com",
      "1 account alice@example.com",
      "1 account_alias al@example.com",
      "1 account carol@example.com",
      "1 skipped_disabled carol@example.com",
      "1 skipped_unknown ghost@example.com",
      "1 group sub@example.com",
      "2 account dave@example.com",
  };
  EXPECT_EQ(describe(r.trail), expected);
}

TEST(ResolveTrail, SubaddressAndCatchAll) {
  auto directory = sample();
  EXPECT_EQ(
      describe(directory->resolve("Alice+News@example.com", "").trail),
      (std::vector<std::string>{"0 subaddress alice@example.com", "0 account alice@example.com"}));
  EXPECT_EQ(describe(directory->resolve("Who@CatchAll.test", "").trail),
            (std::vector<std::string>{"0 catch_all who@catchall.test",
                                      "1 account bucket@catchall.test"}));
}

TEST(ResolveTrail, PostmasterFallbackKeepsWhatWasTried) {
  Resolution r = sample()->resolve("postmaster@pm.test", "");
  EXPECT_EQ(describe(r.trail),
            (std::vector<std::string>{"0 account postmaster@pm.test",
                                      "0 implicit_postmaster postmaster@pm.test"}));
}

TEST(ResolveTrail, CopiesAreExpandedLikeGroupMembers) {
  Resolution r = sample()->resolve("keeper@example.com", "");
  EXPECT_EQ(describe(r.trail),
            (std::vector<std::string>{
                "0 account keeper@example.com", "1 account carol@example.com",
                "1 skipped_disabled carol@example.com", "1 skipped_unknown ghost@example.com",
                "1 account_alias al@example.com", "2 account alice@example.com"}));
}

TEST(ResolveTrail, ForwarderToAliasDomain) {
  Resolution r = sample()->resolve("inner@example.com", "");
  EXPECT_EQ(describe(r.trail), (std::vector<std::string>{"0 forwarder inner@example.com",
                                                         "1 account bob@example.com"}));
}

TEST(Resolve, RelayNeedsTheClientOnlyForTheRecipientItself) {
  // The group names an outside address; whoever the client is, the group accepts.
  Resolution r = sample()->resolve("team@example.com", "203.0.113.9");
  EXPECT_EQ(r.verdict, Verdict::accept);
}

TEST(Resolve, NoRelayNetworksDeniesEveryone) {
  DirectoryData data = testing::sample_directory();
  data.relay_networks.clear();
  auto built = Directory::build(std::move(data));
  ASSERT_TRUE(built.ok());
  EXPECT_EQ((*built)->resolve("x@remote.example", "127.0.0.1").verdict, Verdict::relay_denied);
}

TEST(Resolve, AuthenticatedClientsRelayFromAnywhere) {
  DirectoryData data = testing::sample_directory();
  data.relay_networks.clear();
  auto built = Directory::build(std::move(data));
  ASSERT_TRUE(built.ok());
  Resolution r = (*built)->resolve("X@Remote.example", "203.0.113.9", /*authenticated=*/true);
  EXPECT_EQ(r.verdict, Verdict::accept);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0], (Target{TargetKind::remote, "X@remote.example", false}));
  // Local answers do not change with authentication.
  EXPECT_EQ((*built)->resolve("ghost@example.com", "", true).verdict, Verdict::unknown_user);
  EXPECT_EQ((*built)->resolve("carol@example.com", "", true).verdict, Verdict::disabled);
}

TEST(FindLogin, AccountsThroughAliasesAndAnyCase) {
  auto d = sample();
  struct Case {
    const char* login;
    const char* address;  // nullptr: no account
  };
  const Case cases[] = {
      {"alice@example.com", "alice@example.com"},
      {"ALICE@Example.NET", "alice@example.com"},   // domain alias, any case
      {"al@example.org.", "alice@example.com"},     // account alias, trailing dot
      {"carlos@example.com", "carol@example.com"},  // alias of a disabled-for-SMTP account
      {"team@example.com", nullptr},                // group
      {"ext@example.com", nullptr},                 // forwarder
      {"ghost@example.com", nullptr},
      {"alice", nullptr},  // no domain
      {"alice@remote.example", nullptr},
      {"@example.com", nullptr},
      {"", nullptr},
  };
  for (const Case& c : cases) {
    std::optional<LoginAccount> found = d->find_login(c.login);
    if (!c.address) {
      EXPECT_FALSE(found) << c.login;
      continue;
    }
    ASSERT_TRUE(found) << c.login;
    EXPECT_EQ(found->address, c.address) << c.login;
  }
  std::optional<LoginAccount> bob = d->find_login("bob@example.com");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->password_hash, "{SSHA}xyz");
  EXPECT_EQ(bob->services, kAllServices);
  EXPECT_EQ(d->find_login("carol@example.com")->services, service_pop | service_imap);
}

TEST(Resolve, NoDomainsAtAll) {
  auto built = Directory::build(DirectoryData{});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ((*built)->resolve("postmaster", "").verdict, Verdict::unknown_user);
  EXPECT_EQ((*built)->resolve("a@b.example", "").verdict, Verdict::relay_denied);
}

TEST(Resolve, NamesStoredInUpperCaseAreFolded) {
  DirectoryData data;
  data.domains = {{"EXAMPLE.COM", {"Example.Net"}, ""}};
  data.accounts = {{"Alice", "Example.Com", "", "", kAllServices, 0}};
  data.account_aliases = {{"AL", "example.com", "ALICE"}};
  auto built = Directory::build(std::move(data));
  ASSERT_TRUE(built.ok()) << built.error().message;
  Resolution r = (*built)->resolve("al@example.net", "");
  EXPECT_EQ(describe(r.targets), std::vector<std::string>{"L:alice@example.com"});
}

TEST(Resolve, VersionIsTheSnapshots) {
  EXPECT_EQ(sample()->version(), 42u);
}

TEST(Resolve, SharedDirectoryAnswersFromManyThreadsAlike) {
  auto directory = sample();
  std::vector<std::string> first = describe(directory->resolve("team@example.com", "").targets);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; i++) {
        if (describe(directory->resolve("team@example.com", "").targets) != first) mismatches++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// The SMTP greeting on an alias names the alias's domain: the dataplane asks with the
// local address as its socket reports it, so every textual form of an address matches.
TEST(LocalAddress, FindsTheBoundDomainWhateverTheText) {
  DirectoryData data = testing::sample_directory();
  data.service_addresses[1].domain = "Catchall.TEST.";
  auto built = Directory::build(std::move(data));
  ASSERT_TRUE(built.ok()) << built.error().message;
  const Directory& d = **built;
  const struct {
    const char* local;
    const char* domain;
  } cases[] = {
      {"192.0.2.25", "example.com"},
      {"::ffff:192.0.2.25", "example.com"},  // a dual-stack socket's IPv4 peer
      {"2001:db8::25", "catchall.test"},
      {"2001:DB8:0::25", "catchall.test"},
      {"2001:0db8:0000:0000:0000:0000:0000:0025", "catchall.test"},
      {"2001:db8::25%eth0", "catchall.test"},
      {"192.0.2.26", ""},
      {"2001:db8::26", ""},
      {"192.0.2.2", ""},
      // The same 16 bytes as 192.0.2.25 is stored in, but IPv6: families never match.
      {"c000:219::", ""},
      {"::192.0.2.25", ""},
      {"garbage", ""},
      {"192.0.2.25 ", ""},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(d.domain_of_local_address(c.local), c.domain) << c.local;
}

// Bound through one of its domain's aliases, an address still greets with the canonical name.
TEST(LocalAddress, ADomainAliasMeansItsCanonicalDomain) {
  DirectoryData data = testing::sample_directory();
  data.service_addresses[1].domain = "Example.ORG";
  auto built = Directory::build(std::move(data));
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ((*built)->domain_of_local_address("2001:db8::25"), "example.com");
}

TEST(LocalAddress, UnboundAndAbsentAddressesHaveNoDomain) {
  auto d = sample();
  EXPECT_EQ(d->domain_of_local_address("192.0.2.25"), "example.com");
  EXPECT_EQ(d->domain_of_local_address("2001:db8::25"), "");
  ASSERT_EQ(d->service_addresses().size(), 2u);
  EXPECT_EQ(d->service_addresses()[1].services, std::vector<std::string>{"smtp"});
  auto empty = Directory::build(DirectoryData{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->domain_of_local_address("192.0.2.25"), "");
}

}  // namespace
}  // namespace postcore::directory
