// Accounts and account aliases: adding, reading, changing, renaming and removing them, and
// what renaming and removing do to the aliases, groups and catch-alls that name them.
#include <cerrno>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

class AccountsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
    STORE_OK(store().add_domain(kAdmin, "other.test"));
  }
};

TEST_F(AccountsTest, AddsAndReadsBack) {
  directory::Account alice = account("Alice", "EXAMPLE.com", "Alice Smith");
  alice.services = directory::service_imap | directory::service_smtp;
  alice.quota_kb = 1024;
  STORE_OK(store().add_account(kAdmin, alice));
  STORE_OK(store().add_account(kAdmin, account("bob", "example.net")));  // lands in example.com

  auto got = store().get_account("ALICE@example.net");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->domain, "example.com");
  EXPECT_EQ(got->real_name, "Alice Smith");
  EXPECT_EQ(got->password_hash, "$6$salt$hash");
  EXPECT_EQ(got->services, directory::service_imap | directory::service_smtp);
  EXPECT_EQ(got->quota_kb, 1024u);

  auto listed = store().list_accounts("example.net");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "alice");
  EXPECT_EQ((*listed)[1].name, "bob");
  EXPECT_EQ((*listed)[1].domain, "example.com");
  EXPECT_TRUE(store().list_accounts("other.test")->empty());

  auto entries = store().audit(2);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->front().action, "account.add");
  EXPECT_EQ(entries->front().object, "alice@example.com");
  EXPECT_EQ(entries->front().detail,
            "real name \"Alice Smith\"; services smtp,imap; quota 1024 KB");
  EXPECT_EQ(entries->back().object, "bob@example.com");
}

TEST_F(AccountsTest, RefusesBadAccounts) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  const auto before = version();
  STORE_ERROR(store().add_account(kAdmin, account("Alice", "example.net")), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().add_account(kAdmin, account("carol", "nope.test")), ENOENT,
              "no such domain: nope.test");
  STORE_ERROR(store().add_account(kAdmin, account("a b", "example.com")), EINVAL,
              "invalid name \"a b\": character ' ' is not allowed");
  directory::Account bad = account("carol", "example.com");
  bad.services = 0x08;
  STORE_ERROR(store().add_account(kAdmin, bad), EINVAL,
              "invalid services 0x8: unknown service bits");
  bad = account("carol", "example.com", "Carol\nEvil");
  STORE_ERROR(store().add_account(kAdmin, bad), EINVAL,
              "invalid real name: control character \\x0a");
  bad = account("carol", "example.com");
  bad.quota_kb = UINT64_MAX;
  STORE_ERROR(store().add_account(kAdmin, bad), EINVAL,
              "invalid quota 18446744073709551615 KB: too large");
  EXPECT_EQ(version(), before);
  STORE_ERROR(store().get_account("carol@example.com"), ENOENT,
              "no such account: carol@example.com");
}

TEST_F(AccountsTest, UpdatesFields) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com", "Alice")));
  AccountChanges changes;
  changes.real_name = "Alice Smith";
  changes.password_hash = "$6$new$hash";
  changes.services = directory::service_imap;
  changes.quota_kb = 2048;
  STORE_OK(store().update_account(kAdmin, "alice@example.net", changes));
  auto got = store().get_account("alice@example.com");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->real_name, "Alice Smith");
  EXPECT_EQ(got->password_hash, "$6$new$hash");
  EXPECT_EQ(got->services, directory::service_imap);
  EXPECT_EQ(got->quota_kb, 2048u);
  auto entry = last_audit();
  EXPECT_EQ(entry.action, "account.set");
  EXPECT_EQ(entry.object, "alice@example.com");
  // The hash itself never reaches the audit trail.
  EXPECT_EQ(entry.detail,
            "real name \"Alice\" → \"Alice Smith\"; password changed; services smtp,pop,imap → "
            "imap; quota none → 2048 KB");

  // Only the given fields change; a change to the values already there is no change.
  AccountChanges quota_only;
  quota_only.quota_kb = 0;
  STORE_OK(store().update_account(kAdmin, "alice@example.com", quota_only));
  EXPECT_EQ(store().get_account("alice@example.com")->real_name, "Alice Smith");
  EXPECT_EQ(last_audit().detail, "quota 2048 KB → none");
  const auto before = version();
  STORE_OK(store().update_account(kAdmin, "alice@example.com", quota_only));
  EXPECT_EQ(version(), before);

  STORE_ERROR(store().update_account(kAdmin, "alice@example.com", {}), EINVAL,
              "no account fields to change");
  AccountChanges bad;
  bad.services = 0xff;
  STORE_ERROR(store().update_account(kAdmin, "alice@example.com", bad), EINVAL,
              "invalid services 0xff: unknown service bits");
  STORE_ERROR(store().update_account(kAdmin, "zed@example.com", quota_only), ENOENT,
              "no such account: zed@example.com");
}

TEST_F(AccountsTest, CopiesToOtherAddresses) {
  directory::Account bob = account("bob", "example.com");
  bob.copies_to = {"Bob@Elsewhere.EXAMPLE", "alice@example.net"};
  STORE_OK(store().add_account(kAdmin, bob));
  auto got = store().get_account("bob@example.com");
  ASSERT_TRUE(got.ok());
  // The local part keeps its case (an outside system may tell it apart); domains fold.
  EXPECT_EQ(got->copies_to,
            (std::vector<std::string>{"Bob@elsewhere.example", "alice@example.net"}));
  EXPECT_NE(last_audit().detail.find("copies to Bob@elsewhere.example, alice@example.net"),
            std::string::npos)
      << last_audit().detail;

  AccountChanges one;
  one.copies_to = std::vector<std::string>{"bob@backup.example"};
  STORE_OK(store().update_account(kAdmin, "bob@example.com", one));
  EXPECT_EQ(store().get_account("bob@example.com")->copies_to,
            (std::vector<std::string>{"bob@backup.example"}));
  EXPECT_EQ(last_audit().detail,
            "copies to Bob@elsewhere.example, alice@example.net → bob@backup.example");
  AccountChanges none;
  none.copies_to = std::vector<std::string>{};
  STORE_OK(store().update_account(kAdmin, "bob@example.com", none));
  EXPECT_TRUE(store().get_account("bob@example.com")->copies_to.empty());
  EXPECT_EQ(last_audit().detail, "copies to bob@backup.example → none");

  AccountChanges twice;
  twice.copies_to = std::vector<std::string>{"x@y.example", "x@Y.example"};
  STORE_ERROR(store().update_account(kAdmin, "bob@example.com", twice), EINVAL,
              "copy to x@y.example given twice");
  AccountChanges bad;
  bad.copies_to = std::vector<std::string>{"nobody"};
  EXPECT_FALSE(store().update_account(kAdmin, "bob@example.com", bad).ok());

  // An import (put_account) sets what the account list holds and leaves the copies alone.
  STORE_OK(store().update_account(kAdmin, "bob@example.com", one));
  directory::Account imported = account("bob", "example.com", "Bob Imported");
  auto put = store().put_account(kAdmin, imported);
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(store().get_account("bob@example.com")->copies_to,
            (std::vector<std::string>{"bob@backup.example"}));
  auto data = store().load_directory();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->accounts[0].copies_to, (std::vector<std::string>{"bob@backup.example"}));
}

TEST_F(AccountsTest, RehashReplacesOnlyTheHashItWasMadeFrom) {
  directory::Account alice = account("alice", "example.com");
  alice.password_hash = "{SSHA}old";
  STORE_OK(store().add_account(kAdmin, alice));
  const Actor dataplane{0, "api"};

  auto replaced = store().rehash_password(dataplane, "Alice@example.net", "{SSHA}old", "$y$new");
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_TRUE(*replaced);
  EXPECT_EQ(store().get_account("alice@example.com")->password_hash, "$y$new");
  EXPECT_EQ(last_audit().action, "account.rehash");
  EXPECT_EQ(last_audit().object, "alice@example.com");
  EXPECT_EQ(last_audit().detail, "password stored again as yescrypt");

  // The operator changed the password meanwhile: a late rehash of the old one is dropped.
  const auto before = version();
  const size_t rows = audit_rows();
  replaced = store().rehash_password(dataplane, "alice@example.com", "{SSHA}old", "$y$late");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*replaced);
  EXPECT_EQ(store().get_account("alice@example.com")->password_hash, "$y$new");
  EXPECT_EQ(version(), before);
  EXPECT_EQ(audit_rows(), rows);

  STORE_ERROR(store().rehash_password(dataplane, "zed@example.com", "a", "$y$b"), ENOENT,
              "no such account: zed@example.com");
  EXPECT_FALSE(store().rehash_password(dataplane, "alice@example.com", "$y$new", "bad\nhash").ok());
}

TEST_F(AccountsTest, OtherKindsAreNotAccounts) {
  STORE_OK(store().add_forwarder(kAdmin, {"fw", "example.com", "x@elsewhere.test"}));
  STORE_ERROR(store().get_account("fw@example.com"), ENOENT,
              "fw@example.com is a forwarder, not an account");
  STORE_ERROR(store().remove_account(kAdmin, "fw@example.com"), ENOENT,
              "fw@example.com is a forwarder, not an account");
  STORE_ERROR(store().get_account("fw"), EINVAL, "invalid address \"fw\": no '@'");
}

TEST_F(AccountsTest, AliasesNameAnAccountOfTheSameDomain) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_account_alias(kAdmin, {"Al", "example.net", "ALICE"}));
  EXPECT_EQ(last_audit().action, "account_alias.add");
  EXPECT_EQ(last_audit().object, "al@example.com");
  EXPECT_EQ(last_audit().detail, "for alice@example.com");
  auto alias = store().get_account_alias("al@example.com");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->name, "al");
  EXPECT_EQ(alias->domain, "example.com");
  EXPECT_EQ(alias->account, "alice");

  STORE_ERROR(store().add_account_alias(kAdmin, {"al", "example.com", "alice"}), EEXIST,
              "al@example.com already exists as an account alias");
  STORE_ERROR(store().add_account_alias(kAdmin, {"alice", "example.com", "alice"}), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().add_account_alias(kAdmin, {"x", "example.com", "zed"}), ENOENT,
              "no such account: zed@example.com");
  STORE_ERROR(store().add_account_alias(kAdmin, {"x", "example.com", "al"}), ENOENT,
              "al@example.com is an account alias, not an account");
  // An alias is in the account's own domain.
  STORE_ERROR(store().add_account_alias(kAdmin, {"x", "other.test", "alice"}), ENOENT,
              "no such account: alice@other.test");
  STORE_ERROR(store().add_account(kAdmin, account("al", "example.com")), EEXIST,
              "al@example.com already exists as an account alias");

  auto listed = store().list_account_aliases("example.com");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "al");

  STORE_OK(store().remove_account_alias(kAdmin, "al@example.net"));
  EXPECT_EQ(last_audit().action, "account_alias.remove");
  EXPECT_EQ(last_audit().detail, "was for alice@example.com");
  STORE_ERROR(store().remove_account_alias(kAdmin, "al@example.com"), ENOENT,
              "no such account alias: al@example.com");
  EXPECT_TRUE(store().get_account("alice@example.com").ok());
}

TEST_F(AccountsTest, RenameKeepsAliasesAndRewritesReferences) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_account_alias(kAdmin, {"al", "example.com", "alice"}));
  STORE_OK(store().add_group(
      kAdmin, group("staff", "example.com", {"alice@example.com", "x@outside.test"})));
  // Written under the alias domain, in another domain's group.
  STORE_OK(store().add_group(kAdmin, group("all", "other.test", {"alice@example.net"})));
  STORE_OK(store().set_catch_all(kAdmin, "other.test", "alice@example.com"));
  // Someone elsewhere with the same local name is not touched.
  STORE_OK(store().add_account(kAdmin, account("alice", "other.test")));
  STORE_OK(store().add_group(kAdmin, group("locals", "other.test", {"alice@other.test"})));

  STORE_OK(store().rename_account(kAdmin, "alice@example.com", "Alicia"));
  STORE_ERROR(store().get_account("alice@example.com"), ENOENT,
              "no such account: alice@example.com");
  auto renamed = store().get_account("alicia@example.com");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->password_hash, "$6$salt$hash");
  EXPECT_EQ(store().get_account_alias("al@example.com")->account, "alicia");
  EXPECT_EQ(store().get_group("staff@example.com")->members,
            (std::vector<std::string>{"alicia@example.com", "x@outside.test"}));
  EXPECT_EQ(store().get_group("all@other.test")->members,
            (std::vector<std::string>{"alicia@example.net"}));
  EXPECT_EQ(store().get_group("locals@other.test")->members,
            (std::vector<std::string>{"alice@other.test"}));
  EXPECT_EQ(store().get_domain("other.test")->catch_all, "alicia@example.com");

  auto entry = last_audit();
  EXPECT_EQ(entry.action, "account.rename");
  EXPECT_EQ(entry.object, "alice@example.com");
  EXPECT_EQ(entry.detail,
            "new name alicia@example.com; memberships renamed in all@other.test, "
            "staff@example.com; catch-all of other.test renamed");
}

TEST_F(AccountsTest, RenameRefusals) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_forwarder(kAdmin, {"bob", "example.com", "bob@elsewhere.test"}));
  const auto before = version();
  STORE_ERROR(store().rename_account(kAdmin, "alice@example.com", "bob"), EEXIST,
              "bob@example.com already exists as a forwarder");
  STORE_ERROR(store().rename_account(kAdmin, "alice@example.com", "alice"), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().rename_account(kAdmin, "alice@example.com", "bad name"), EINVAL,
              "invalid name \"bad name\": character ' ' is not allowed");
  STORE_ERROR(store().rename_account(kAdmin, "zed@example.com", "zz"), ENOENT,
              "no such account: zed@example.com");
  STORE_ERROR(store().rename_account(kAdmin, "bob@example.com", "zz"), ENOENT,
              "bob@example.com is a forwarder, not an account");
  EXPECT_EQ(version(), before);
}

TEST_F(AccountsTest, RenameOntoANameAGroupAlreadyHolds) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  // Groups may name addresses that do not exist (yet).
  STORE_OK(store().add_group(
      kAdmin, group("staff", "example.com", {"alicia@example.com", "alice@example.com"})));
  STORE_OK(store().rename_account(kAdmin, "alice@example.com", "alicia"));
  EXPECT_EQ(store().get_group("staff@example.com")->members,
            (std::vector<std::string>{"alicia@example.com"}));
}

TEST_F(AccountsTest, RemoveTakesAliasesAndReferencesWithIt) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_account(kAdmin, account("bob", "example.com")));
  STORE_OK(store().add_account_alias(kAdmin, {"al", "example.com", "alice"}));
  STORE_OK(store().add_account_alias(kAdmin, {"ally", "example.com", "alice"}));
  STORE_OK(store().add_account_alias(kAdmin, {"bobby", "example.com", "bob"}));
  STORE_OK(store().add_group(
      kAdmin, group("staff", "example.com", {"alice@example.com", "bob@example.com"})));
  STORE_OK(store().add_group(kAdmin, group("all", "other.test", {"ally@example.net"})));
  STORE_OK(store().set_catch_all(kAdmin, "example.com", "al@example.com"));

  STORE_OK(store().remove_account(kAdmin, "alice@example.net"));
  EXPECT_EQ(last_audit().action, "account.remove");
  EXPECT_EQ(last_audit().object, "alice@example.com");
  EXPECT_EQ(last_audit().detail,
            "aliases removed: al@example.com, ally@example.com; removed from groups "
            "all@other.test, staff@example.com; catch-all of example.com cleared");
  STORE_ERROR(store().get_account_alias("al@example.com"), ENOENT,
              "no such account alias: al@example.com");
  STORE_ERROR(store().get_account_alias("ally@example.com"), ENOENT,
              "no such account alias: ally@example.com");
  EXPECT_EQ(store().get_account_alias("bobby@example.com")->account, "bob");
  EXPECT_EQ(store().get_group("staff@example.com")->members,
            (std::vector<std::string>{"bob@example.com"}));
  EXPECT_TRUE(store().get_group("all@other.test")->members.empty());
  EXPECT_EQ(store().get_domain("example.com")->catch_all, "");
  // The names are free again.
  STORE_OK(store().add_forwarder(kAdmin, {"al", "example.com", "al@elsewhere.test"}));
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
}

}  // namespace
}  // namespace postcore::store::testing
