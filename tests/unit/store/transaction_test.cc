// Transactions (all or nothing, nesting under savepoints), the version counter, the audit
// trail, a failed commit, a busy database, and the snapshot read by load_directory.
#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

using TransactionTest = StoreTest;

TEST_F(TransactionTest, CommitsEverythingAndBumpsTheVersionOnce) {
  EXPECT_EQ(version(), 0u);
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_domain(kAdmin, "example.com"); !r) return r;
    if (auto r = s.add_account(kAdmin, account("alice", "example.com")); !r) return r;
    return s.add_account(kAdmin, account("bob", "example.com"));
  }));
  EXPECT_EQ(version(), 1u);
  EXPECT_EQ(audit_rows(), 3u);
  STORE_OK(store().add_account(kAdmin, account("carol", "example.com")));
  EXPECT_EQ(version(), 2u);
}

TEST_F(TransactionTest, AnErrorRollsEverythingBack) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  auto result = store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_account(kAdmin, account("alice", "example.com")); !r) return r;
    if (auto r = s.add_domain(kAdmin, "example.org"); !r) return r;
    return s.add_account(kAdmin, account("alice", "example.com"));  // a duplicate
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, EEXIST);
  EXPECT_EQ(result.error().message, "alice@example.com already exists as an account");
  STORE_ERROR(store().get_account("alice@example.com"), ENOENT,
              "no such account: alice@example.com");
  STORE_ERROR(store().get_domain("example.org"), ENOENT, "no such domain: example.org");
  EXPECT_EQ(version(), 1u);
  EXPECT_EQ(audit_rows(), 1u);
  // The store is usable afterwards.
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  EXPECT_EQ(version(), 2u);
}

TEST_F(TransactionTest, AFailedInnerStepIsUndoneAndTheOuterMayCarryOn) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_account(kAdmin, account("alice", "example.com")); !r) return r;
    // The inner transaction adds a group, then fails; only its own work is undone.
    auto inner = s.transaction([](Store& t) -> Result<void> {
      if (auto r = t.add_group(kAdmin, group("staff", "example.com")); !r) return r;
      return make_error(EINVAL, "changed my mind");
    });
    EXPECT_FALSE(inner.ok());
    // A refused call is also undone completely (its name was claimed before the refusal).
    auto loop = s.add_forwarder(kAdmin, {"loop", "example.com", "loop@example.com"});
    EXPECT_FALSE(loop.ok());
    return s.add_account(kAdmin, account("bob", "example.com"));
  }));
  EXPECT_TRUE(store().get_account("alice@example.com").ok());
  EXPECT_TRUE(store().get_account("bob@example.com").ok());
  STORE_ERROR(store().get_group("staff@example.com"), ENOENT, "no such group: staff@example.com");
  STORE_ERROR(store().get_forwarder("loop@example.com"), ENOENT,
              "no such forwarder: loop@example.com");
  EXPECT_EQ(audit_rows(), 3u);
  EXPECT_EQ(version(), 2u);
}

TEST_F(TransactionTest, AnExceptionRollsBackAndBecomesAnError) {
  auto result = store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_domain(kAdmin, "example.com"); !r) return r;
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, EIO);
  EXPECT_EQ(result.error().message, "transaction aborted by an exception: boom");
  STORE_ERROR(store().get_domain("example.com"), ENOENT, "no such domain: example.com");
  EXPECT_EQ(version(), 0u);
  STORE_OK(store().add_domain(kAdmin, "example.com"));
}

TEST_F(TransactionTest, ReadsAndRefusalsDoNotChangeTheVersion) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    auto domains = s.list_domains();
    if (!domains) return domains.error();
    return {};
  }));
  EXPECT_FALSE(store().add_domain(kAdmin, "example.com").ok());
  EXPECT_FALSE(store().remove_domain(kAdmin, "nope.test").ok());
  EXPECT_EQ(version(), 1u);
  EXPECT_EQ(audit_rows(), 1u);
}

TEST_F(TransactionTest, TheVersionSurvivesReopening) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_domain(kAdmin, "example.org"));
  reopen();
  EXPECT_EQ(version(), 2u);
  STORE_OK(store().remove_domain(kAdmin, "example.org"));
  EXPECT_EQ(version(), 3u);
}

TEST_F(TransactionTest, AuditRowsSayWhoWhatAndWhen) {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  STORE_OK(store().add_domain(Actor{0, "cli"}, "example.com"));
  STORE_OK(store().add_account(Actor{1001, "api"}, account("alice", "example.com", "Alice")));
  STORE_OK(store().add_group(Actor{1002, "import:/tmp/x"}, group("g", "example.com")));
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto rows = store().audit(10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  const AuditEntry& first = (*rows)[0];
  EXPECT_EQ(first.uid, 0u);
  EXPECT_EQ(first.origin, "cli");
  EXPECT_EQ(first.action, "domain.add");
  EXPECT_EQ(first.object, "example.com");
  EXPECT_GE(first.time_ms, before);
  EXPECT_LE(first.time_ms, after);
  EXPECT_EQ((*rows)[1].uid, 1001u);
  EXPECT_EQ((*rows)[1].origin, "api");
  EXPECT_EQ((*rows)[1].action, "account.add");
  EXPECT_EQ((*rows)[2].uid, 1002u);
  EXPECT_EQ((*rows)[2].origin, "import:/tmp/x");
  EXPECT_LT((*rows)[0].id, (*rows)[1].id);
  EXPECT_LT((*rows)[1].id, (*rows)[2].id);

  // The last `limit` rows, oldest first; `since` filters by time.
  auto last_two = store().audit(2);
  ASSERT_TRUE(last_two.ok());
  ASSERT_EQ(last_two->size(), 2u);
  EXPECT_EQ((*last_two)[0].action, "account.add");
  EXPECT_EQ((*last_two)[1].action, "group.add");
  EXPECT_TRUE(store().audit(10, after + 1)->empty());
  EXPECT_EQ(store().audit(10, before)->size(), 3u);
  EXPECT_TRUE(store().audit(0)->empty());
}

TEST_F(TransactionTest, AFailedCommitKeepsNothing) {
  bool fail = false;
  options_.fail_at = [&](std::string_view point) { return fail && point == "commit"; };
  reopen();
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  fail = true;
  auto refused = store().add_account(kAdmin, account("alice", "example.com"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EIO);
  EXPECT_EQ(refused.error().message,
            "configuration store " + path() + ": injected failure at commit");
  fail = false;
  STORE_ERROR(store().get_account("alice@example.com"), ENOENT,
              "no such account: alice@example.com");
  EXPECT_EQ(version(), 1u);
  EXPECT_EQ(audit_rows(), 1u);
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  EXPECT_EQ(version(), 2u);
}

TEST_F(TransactionTest, ABusyDatabaseIsAnIoErrorAfterTheTimeout) {
  options_.busy_timeout_ms = 50;
  reopen();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto refused = store().add_domain(kAdmin, "example.com");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EIO);
  EXPECT_EQ(refused.error().message,
            "configuration store " + path() + ": BEGIN IMMEDIATE: database is locked");
  // Readers are not blocked by a writer (WAL).
  EXPECT_TRUE(store().list_domains().ok());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  STORE_OK(store().add_domain(kAdmin, "example.com"));
}

TEST_F(TransactionTest, LoadDirectoryReadsEverythingSorted) {
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_domain(kAdmin, "zeta.test"); !r) return r;
    if (auto r = s.add_domain(kAdmin, "example.com", {"example.org", "example.net"}); !r) return r;
    if (auto r = s.set_catch_all(kAdmin, "example.com", "postmaster@example.com"); !r) return r;
    if (auto r = s.add_account(kAdmin, account("bob", "example.com", "Bob")); !r) return r;
    if (auto r = s.add_account(kAdmin, account("alice", "example.com", "Alice")); !r) return r;
    if (auto r = s.add_account(kAdmin, account("alice", "zeta.test")); !r) return r;
    if (auto r = s.add_account_alias(kAdmin, {"al", "example.com", "alice"}); !r) return r;
    if (auto r = s.add_forwarder(kAdmin, {"fw", "zeta.test", "Far@away.test"}); !r) return r;
    if (auto r = s.add_group(kAdmin,
                             group("all", "example.com", {"bob@example.com", "alice@example.com"}));
        !r)
      return r;
    return s.add_relay_network(kAdmin, "10.0.0.0/8");
  }));
  auto data = store().load_directory();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->version, 1u);
  ASSERT_EQ(data->domains.size(), 2u);
  EXPECT_EQ(data->domains[0].name, "example.com");
  EXPECT_EQ(data->domains[0].aliases, (std::vector<std::string>{"example.net", "example.org"}));
  EXPECT_EQ(data->domains[0].catch_all, "postmaster@example.com");
  EXPECT_EQ(data->domains[1].name, "zeta.test");
  ASSERT_EQ(data->accounts.size(), 3u);
  EXPECT_EQ(data->accounts[0].name, "alice");
  EXPECT_EQ(data->accounts[0].domain, "example.com");
  EXPECT_EQ(data->accounts[0].real_name, "Alice");
  EXPECT_EQ(data->accounts[1].name, "bob");
  EXPECT_EQ(data->accounts[2].domain, "zeta.test");
  ASSERT_EQ(data->account_aliases.size(), 1u);
  EXPECT_EQ(data->account_aliases[0].name, "al");
  EXPECT_EQ(data->account_aliases[0].domain, "example.com");
  EXPECT_EQ(data->account_aliases[0].account, "alice");
  ASSERT_EQ(data->forwarders.size(), 1u);
  EXPECT_EQ(data->forwarders[0].target, "Far@away.test");
  ASSERT_EQ(data->groups.size(), 1u);
  EXPECT_EQ(data->groups[0].members,
            (std::vector<std::string>{"bob@example.com", "alice@example.com"}));
  EXPECT_EQ(data->relay_networks, (std::vector<std::string>{"10.0.0.0/8"}));

  // Inside a transaction it sees that transaction's own changes.
  STORE_OK(store().transaction([](Store& s) -> Result<void> {
    if (auto r = s.add_domain(kAdmin, "new.test"); !r) return r;
    auto inside = s.load_directory();
    if (!inside) return inside.error();
    EXPECT_EQ(inside->domains.size(), 3u);
    return {};
  }));
  EXPECT_EQ(store().load_directory()->version, 2u);
}

}  // namespace
}  // namespace postcore::store::testing
