// The put_* upserts imports are built from: created, updated or unchanged, an import that
// runs twice changes nothing the second time, an import is all or nothing, and the size an
// import must handle (100,000 accounts in one transaction).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

using ImportTest = StoreTest;

// A small whole-directory import, as a migration tool would run it.
Result<void> import_sample(Store& s) {
  return s.transaction([](Store& t) -> Result<void> {
    directory::Domain example{"example.com", {"example.net"}, "postmaster@example.com"};
    if (auto r = t.put_domain(kAdmin, example); !r) return r.error();
    directory::Account alice = account("alice", "example.com", "Alice");
    alice.quota_kb = 500;
    if (auto r = t.put_account(kAdmin, alice); !r) return r.error();
    if (auto r = t.put_account(kAdmin, account("postmaster", "example.com")); !r) return r.error();
    if (auto r = t.put_account_alias(kAdmin, {"al", "example.com", "alice"}); !r) return r.error();
    if (auto r = t.put_forwarder(kAdmin, {"fw", "example.com", "Out@partner.test"}); !r)
      return r.error();
    if (auto r = t.put_group(
            kAdmin, group("staff", "example.com", {"alice@example.com", "fw@example.com"}));
        !r)
      return r.error();
    if (auto r = t.put_relay_network(kAdmin, "192.0.2.0/24"); !r) return r.error();
    return {};
  });
}

TEST_F(ImportTest, RunningAnImportTwiceChangesNothingTheSecondTime) {
  STORE_OK(import_sample(store()));
  auto first = store().load_directory();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->version, 1u);
  const size_t rows = audit_rows();
  EXPECT_EQ(rows, 8u);  // domain, catch-all, 2 accounts, alias, forwarder, group, network

  STORE_OK(import_sample(store()));
  auto second = store().load_directory();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 1u);
  EXPECT_EQ(audit_rows(), rows);
  EXPECT_EQ(second->accounts.size(), 2u);
  EXPECT_EQ(second->groups[0].members, first->groups[0].members);
}

TEST_F(ImportTest, PutReportsWhatItDid) {
  ASSERT_EQ(*store().put_domain(kAdmin, {"example.com", {}, ""}), PutOutcome::created);
  ASSERT_EQ(*store().put_domain(kAdmin, {"example.com", {}, ""}), PutOutcome::unchanged);
  ASSERT_EQ(*store().put_domain(kAdmin, {"example.com", {"example.net", "example.org"}, ""}),
            PutOutcome::updated);
  // Aliases and catch-all become exactly as given.
  ASSERT_EQ(*store().put_domain(kAdmin, {"Example.com", {"example.org"}, "pm@example.com"}),
            PutOutcome::updated);
  auto domain = store().get_domain("example.com");
  EXPECT_EQ(domain->aliases, (std::vector<std::string>{"example.org"}));
  EXPECT_EQ(domain->catch_all, "pm@example.com");
  ASSERT_EQ(*store().put_domain(kAdmin, {"example.com", {"example.org"}, "pm@example.com"}),
            PutOutcome::unchanged);

  directory::Account alice = account("alice", "example.com");
  ASSERT_EQ(*store().put_account(kAdmin, alice), PutOutcome::created);
  ASSERT_EQ(*store().put_account(kAdmin, alice), PutOutcome::unchanged);
  alice.quota_kb = 10;
  ASSERT_EQ(*store().put_account(kAdmin, alice), PutOutcome::updated);
  EXPECT_EQ(store().get_account("alice@example.com")->quota_kb, 10u);
  EXPECT_EQ(last_audit().action, "account.set");
  STORE_OK(store().add_account(kAdmin, account("bob", "example.com")));

  ASSERT_EQ(*store().put_account_alias(kAdmin, {"al", "example.com", "alice"}),
            PutOutcome::created);
  ASSERT_EQ(*store().put_account_alias(kAdmin, {"al", "example.com", "alice"}),
            PutOutcome::unchanged);
  ASSERT_EQ(*store().put_account_alias(kAdmin, {"al", "example.com", "bob"}), PutOutcome::updated);
  EXPECT_EQ(store().get_account_alias("al@example.com")->account, "bob");
  EXPECT_EQ(last_audit().action, "account_alias.set");
  EXPECT_EQ(last_audit().detail, "for bob@example.com (was for alice@example.com)");

  ASSERT_EQ(*store().put_forwarder(kAdmin, {"fw", "example.com", "a@partner.test"}),
            PutOutcome::created);
  ASSERT_EQ(*store().put_forwarder(kAdmin, {"fw", "example.com", "a@partner.test"}),
            PutOutcome::unchanged);
  ASSERT_EQ(*store().put_forwarder(kAdmin, {"fw", "example.com", "B@partner.test"}),
            PutOutcome::updated);
  EXPECT_EQ(last_audit().action, "forwarder.set");
  EXPECT_EQ(last_audit().detail, "to B@partner.test (was to a@partner.test)");

  ASSERT_EQ(*store().put_group(kAdmin, group("g", "example.com", {"a@x.test", "b@x.test"})),
            PutOutcome::created);
  ASSERT_EQ(*store().put_group(kAdmin, group("g", "example.com", {"b@x.test", "a@x.test"})),
            PutOutcome::unchanged);  // members are a set
  ASSERT_EQ(*store().put_group(kAdmin, group("g", "example.com", {"b@x.test", "c@x.test"})),
            PutOutcome::updated);
  EXPECT_EQ(store().get_group("g@example.com")->members,
            (std::vector<std::string>{"b@x.test", "c@x.test"}));
  directory::Group renamed = group("g", "example.com", {"b@x.test", "c@x.test"});
  renamed.real_name = "Gee";
  ASSERT_EQ(*store().put_group(kAdmin, renamed), PutOutcome::updated);

  ASSERT_EQ(*store().put_relay_network(kAdmin, "10.0.0.0/8"), PutOutcome::created);
  ASSERT_EQ(*store().put_relay_network(kAdmin, "10.0.0.0/8"), PutOutcome::unchanged);
}

TEST_F(ImportTest, PutRefusesANameTakenByAnotherKind) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_group(kAdmin, group("staff", "example.com")));
  STORE_ERROR(store().put_forwarder(kAdmin, {"alice", "example.com", "a@x.test"}), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().put_account(kAdmin, account("staff", "example.com")), EEXIST,
              "staff@example.com already exists as a group");
  STORE_ERROR(store().put_group(kAdmin, group("alice", "example.com")), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().put_account_alias(kAdmin, {"staff", "example.com", "alice"}), EEXIST,
              "staff@example.com already exists as a group");
  STORE_ERROR(store().put_domain(kAdmin, {"example.net", {}, ""}), EEXIST,
              "example.net already exists as an alias of example.com");
}

TEST_F(ImportTest, AnImportIsAllOrNothing) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_account(kAdmin, account("taken", "example.com")));
  const auto before = version();
  const auto rows = audit_rows();
  auto result = store().transaction([](Store& s) -> Result<void> {
    for (int i = 0; i < 100; ++i)
      if (auto r = s.put_account(kAdmin, account(fmt::format("user{}", i), "example.com")); !r)
        return r.error();
    if (auto r = s.put_group(kAdmin, group("taken", "example.com")); !r) return r.error();
    return {};
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "taken@example.com already exists as an account");
  EXPECT_EQ(store().list_accounts("example.com")->size(), 1u);
  EXPECT_EQ(version(), before);
  EXPECT_EQ(audit_rows(), rows);
}

// Wall-clock and CPU time of one phase: the machine running the tests may be busy, and
// the CPU figure shows what the store itself costs.
class Stopwatch {
 public:
  std::string lap() {
    auto wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    std::string text =
        fmt::format("{:.2f} s (CPU {:.2f} s)", std::chrono::duration<double>(wall - wall_).count(),
                    static_cast<double>(cpu - cpu_) / CLOCKS_PER_SEC);
    wall_ = wall;
    cpu_ = cpu;
    return text;
  }

 private:
  std::chrono::steady_clock::time_point wall_ = std::chrono::steady_clock::now();
  std::clock_t cpu_ = std::clock();
};

TEST_F(ImportTest, AHundredThousandAccountsInOneTransaction) {
  constexpr int kAccounts = 100000;
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  Stopwatch stopwatch;
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    for (int i = 0; i < kAccounts; ++i) {
      directory::Account a = account(fmt::format("user{:06}", i), "example.com", "User");
      a.quota_kb = 1024;
      if (auto r = s.add_account(kAdmin, a); !r) return r;
    }
    return {};
  }));
  const std::string added = stopwatch.lap();

  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    for (int i = 0; i < kAccounts; ++i) {
      directory::Account a = account(fmt::format("user{:06}", i), "example.com", "User");
      a.quota_kb = 1024;
      auto r = s.put_account(kAdmin, a);
      if (!r) return r.error();
      if (*r != PutOutcome::unchanged) return make_error(EINVAL, "re-import changed something");
    }
    return {};
  }));
  const std::string reimported = stopwatch.lap();
  auto data = store().load_directory();
  const std::string loaded = stopwatch.lap();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->accounts.size(), static_cast<size_t>(kAccounts));
  EXPECT_EQ(data->version, 2u);
  EXPECT_EQ(audit_rows(), static_cast<size_t>(kAccounts) + 1);
  std::printf(
      "[ figures  ] %d accounts: add in one transaction %s; re-import, unchanged, %s; "
      "load_directory %s\n",
      kAccounts, added.c_str(), reimported.c_str(), loaded.c_str());
}

}  // namespace
}  // namespace postcore::store::testing
