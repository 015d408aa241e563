// Domains, domain aliases and catch-alls.
#include <cerrno>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

using DomainsTest = StoreTest;

TEST_F(DomainsTest, AddsAndReadsBackLowerCased) {
  STORE_OK(store().add_domain(kAdmin, "Example.COM.", {"Example.NET", "example.org"}));
  STORE_OK(store().add_domain(kAdmin, "another.test"));
  auto domains = store().list_domains();
  ASSERT_TRUE(domains.ok());
  ASSERT_EQ(domains->size(), 2u);
  EXPECT_EQ((*domains)[0].name, "another.test");
  EXPECT_TRUE((*domains)[0].aliases.empty());
  EXPECT_EQ((*domains)[1].name, "example.com");
  EXPECT_EQ((*domains)[1].aliases, (std::vector<std::string>{"example.net", "example.org"}));
  EXPECT_EQ((*domains)[1].catch_all, "");

  auto by_alias = store().get_domain("EXAMPLE.net");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->name, "example.com");

  auto entry = last_audit();
  EXPECT_EQ(entry.action, "domain.add");
  EXPECT_EQ(entry.object, "another.test");
  auto first = store().audit(2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->front().object, "example.com");
  EXPECT_EQ(first->front().detail, "aliases example.net, example.org");
}

TEST_F(DomainsTest, RefusesTakenNames) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  const auto before = version();
  STORE_ERROR(store().add_domain(kAdmin, "EXAMPLE.com"), EEXIST,
              "domain example.com already exists");
  STORE_ERROR(store().add_domain(kAdmin, "example.net"), EEXIST,
              "example.net already exists as an alias of example.com");
  STORE_ERROR(store().add_domain(kAdmin, "example.org", {"example.com"}), EEXIST,
              "domain example.com already exists");
  STORE_ERROR(store().add_domain(kAdmin, "example.org", {"example.net"}), EEXIST,
              "example.net already exists as an alias of example.com");
  STORE_ERROR(store().add_domain_alias(kAdmin, "example.com", "example.net"), EEXIST,
              "example.net already exists as an alias of example.com");
  STORE_ERROR(store().add_domain_alias(kAdmin, "example.com", "example.com"), EEXIST,
              "domain example.com already exists");
  // Nothing of the refused example.org was kept.
  STORE_ERROR(store().get_domain("example.org"), ENOENT, "no such domain: example.org");
  EXPECT_EQ(version(), before);
}

TEST_F(DomainsTest, RefusesBadInput) {
  STORE_ERROR(store().add_domain(kAdmin, "exa mple.com"), EINVAL,
              "invalid domain \"exa mple.com\": character ' ' is not allowed");
  STORE_ERROR(store().add_domain(kAdmin, "example.com", {"bad_alias.com"}), EINVAL,
              "invalid domain \"bad_alias.com\": character '_' is not allowed");
  STORE_ERROR(store().add_domain(kAdmin, "example.com", {"Example.com"}), EINVAL,
              "domain example.com cannot be its own alias");
  STORE_ERROR(store().add_domain(kAdmin, "example.com", {"example.net", "EXAMPLE.NET"}), EINVAL,
              "alias example.net given twice");
  EXPECT_EQ(version(), 0u);
  EXPECT_EQ(audit_rows(), 0u);
}

TEST_F(DomainsTest, GetUnknown) {
  STORE_ERROR(store().get_domain("nope.test"), ENOENT, "no such domain: nope.test");
  STORE_ERROR(store().list_accounts("nope.test"), ENOENT, "no such domain: nope.test");
}

TEST_F(DomainsTest, AddsAndRemovesAliases) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_domain_alias(kAdmin, "example.com", "Example.NET"));
  EXPECT_EQ(last_audit().action, "domain.alias.add");
  EXPECT_EQ(last_audit().object, "example.net");
  EXPECT_EQ(last_audit().detail, "alias of example.com");
  // Given by one of its aliases, the domain is still found.
  STORE_OK(store().add_domain_alias(kAdmin, "example.net", "example.org"));
  EXPECT_EQ(store().get_domain("example.com")->aliases,
            (std::vector<std::string>{"example.net", "example.org"}));

  STORE_OK(store().remove_domain_alias(kAdmin, "EXAMPLE.net"));
  EXPECT_EQ(last_audit().action, "domain.alias.remove");
  EXPECT_EQ(last_audit().detail, "was an alias of example.com");
  EXPECT_EQ(store().get_domain("example.com")->aliases, (std::vector<std::string>{"example.org"}));
  STORE_ERROR(store().remove_domain_alias(kAdmin, "example.net"), ENOENT,
              "no such domain alias: example.net");
  STORE_ERROR(store().remove_domain_alias(kAdmin, "example.com"), EINVAL,
              "example.com is a domain, not a domain alias");
  STORE_ERROR(store().add_domain_alias(kAdmin, "nope.test", "x.test"), ENOENT,
              "no such domain: nope.test");
}

TEST_F(DomainsTest, RemovesEmptyDomainWithItsAliases) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().remove_domain(kAdmin, "Example.com"));
  EXPECT_EQ(last_audit().action, "domain.remove");
  EXPECT_EQ(last_audit().detail, "aliases example.net");
  STORE_ERROR(store().get_domain("example.net"), ENOENT, "no such domain: example.net");
  EXPECT_TRUE(store().list_domains()->empty());
  // The names are free again.
  STORE_OK(store().add_domain(kAdmin, "example.net"));
  STORE_ERROR(store().remove_domain(kAdmin, "example.com"), ENOENT, "no such domain: example.com");
}

TEST_F(DomainsTest, RefusesToRemoveADomainInUseUnlessCascading) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_account(kAdmin, account("bob", "example.com")));
  STORE_OK(store().add_account_alias(kAdmin, {"al", "example.com", "alice"}));
  STORE_OK(store().add_forwarder(kAdmin, {"fw", "example.com", "x@elsewhere.test"}));
  STORE_OK(store().add_group(kAdmin, group("staff", "example.com", {"alice@example.com"})));
  const auto before = version();
  STORE_ERROR(store().remove_domain(kAdmin, "example.com"), ELOOP,
              "domain example.com is not empty (2 accounts, 1 account alias, 1 forwarder, "
              "1 group); remove those first or use cascade");
  STORE_ERROR(store().remove_domain(kAdmin, "example.net", true), EINVAL,
              "example.net is an alias of example.com, not a domain; remove the alias instead");
  EXPECT_EQ(version(), before);

  STORE_OK(store().remove_domain(kAdmin, "example.com", /*cascade=*/true));
  EXPECT_EQ(last_audit().detail,
            "aliases example.net; removed 2 accounts, 1 account alias, 1 forwarder, 1 group");
  auto data = store().load_directory();
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->domains.empty());
  EXPECT_TRUE(data->accounts.empty());
  EXPECT_TRUE(data->account_aliases.empty());
  EXPECT_TRUE(data->forwarders.empty());
  EXPECT_TRUE(data->groups.empty());
  // Every name can be used again.
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_account(kAdmin, account("al", "example.com")));
}

TEST_F(DomainsTest, CascadeLeavesOtherDomainsReferencesAsOutsideAddresses) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_domain(kAdmin, "moving.test"));
  STORE_OK(store().add_account(kAdmin, account("bob", "moving.test")));
  STORE_OK(store().add_group(kAdmin, group("all", "example.com", {"bob@moving.test"})));
  STORE_OK(store().set_catch_all(kAdmin, "example.com", "bob@moving.test"));
  STORE_OK(store().remove_domain(kAdmin, "moving.test", true));
  EXPECT_EQ(store().get_group("all@example.com")->members,
            (std::vector<std::string>{"bob@moving.test"}));
  EXPECT_EQ(store().get_domain("example.com")->catch_all, "bob@moving.test");
}

TEST_F(DomainsTest, SetsAndClearsTheCatchAll) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().set_catch_all(kAdmin, "example.net", "Postmaster@Example.COM"));
  EXPECT_EQ(store().get_domain("example.com")->catch_all, "postmaster@example.com");
  EXPECT_EQ(last_audit().action, "domain.catch_all.set");
  EXPECT_EQ(last_audit().object, "example.com");
  EXPECT_EQ(last_audit().detail, "catch-all (none) → postmaster@example.com");

  // Setting the same value again is no change at all.
  const auto before = version();
  const auto rows = audit_rows();
  STORE_OK(store().set_catch_all(kAdmin, "example.com", "postmaster@example.com"));
  EXPECT_EQ(version(), before);
  EXPECT_EQ(audit_rows(), rows);

  STORE_ERROR(store().set_catch_all(kAdmin, "example.com", "postmaster"), EINVAL,
              "invalid address \"postmaster\": no '@'");
  STORE_ERROR(store().set_catch_all(kAdmin, "nope.test", "a@b.test"), ENOENT,
              "no such domain: nope.test");
  STORE_OK(store().set_catch_all(kAdmin, "example.com", ""));
  EXPECT_EQ(store().get_domain("example.com")->catch_all, "");
  EXPECT_EQ(last_audit().detail, "catch-all postmaster@example.com → (none)");
}

TEST_F(DomainsTest, RelayNetworks) {
  STORE_OK(store().add_relay_network(kAdmin, "192.0.2.0/24"));
  STORE_OK(store().add_relay_network(kAdmin, "2001:DB8::/32"));
  STORE_OK(store().add_relay_network(kAdmin, "127.0.0.1"));
  EXPECT_EQ(*store().list_relay_networks(),
            (std::vector<std::string>{"127.0.0.1/32", "192.0.2.0/24", "2001:db8::/32"}));
  EXPECT_EQ(last_audit().action, "relay_network.add");
  EXPECT_EQ(last_audit().object, "127.0.0.1/32");
  STORE_ERROR(store().add_relay_network(kAdmin, "192.0.2.0/24"), EEXIST,
              "relay network 192.0.2.0/24 already exists");
  STORE_ERROR(store().add_relay_network(kAdmin, "192.0.2.7/24"), EINVAL,
              "invalid network \"192.0.2.7/24\": address has bits set beyond the /24 prefix "
              "(did you mean 192.0.2.0/24?)");
  STORE_OK(store().remove_relay_network(kAdmin, "2001:db8:0::/32"));
  EXPECT_EQ(last_audit().action, "relay_network.remove");
  STORE_ERROR(store().remove_relay_network(kAdmin, "2001:db8::/32"), ENOENT,
              "no such relay network: 2001:db8::/32");
  EXPECT_EQ(*store().list_relay_networks(),
            (std::vector<std::string>{"127.0.0.1/32", "192.0.2.0/24"}));
}

}  // namespace
}  // namespace postcore::store::testing
