// Forwarders.
#include <cerrno>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

class ForwardersTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  }
};

TEST_F(ForwardersTest, AddsReadsAndRemoves) {
  // The outside local part keeps its case: the other system may tell them apart.
  STORE_OK(store().add_forwarder(kAdmin, {"Sales", "example.net", "Sales.Team@Partner.TEST"}));
  EXPECT_EQ(last_audit().action, "forwarder.add");
  EXPECT_EQ(last_audit().object, "sales@example.com");
  EXPECT_EQ(last_audit().detail, "to Sales.Team@partner.test");
  auto got = store().get_forwarder("sales@example.com");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "sales");
  EXPECT_EQ(got->domain, "example.com");
  EXPECT_EQ(got->target, "Sales.Team@partner.test");
  STORE_OK(store().add_forwarder(kAdmin, {"abuse", "example.com", "abuse@partner.test"}));
  auto listed = store().list_forwarders("example.com");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "abuse");
  EXPECT_EQ((*listed)[1].name, "sales");

  STORE_OK(store().add_group(kAdmin, group("all", "example.com", {"sales@example.com"})));
  STORE_OK(store().remove_forwarder(kAdmin, "sales@example.com"));
  EXPECT_EQ(last_audit().action, "forwarder.remove");
  EXPECT_EQ(last_audit().detail,
            "was to Sales.Team@partner.test; removed from groups all@example.com");
  EXPECT_TRUE(store().get_group("all@example.com")->members.empty());
  STORE_ERROR(store().get_forwarder("sales@example.com"), ENOENT,
              "no such forwarder: sales@example.com");
  STORE_ERROR(store().remove_forwarder(kAdmin, "sales@example.com"), ENOENT,
              "no such forwarder: sales@example.com");
}

TEST_F(ForwardersTest, Refusals) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  const auto before = version();
  STORE_ERROR(store().add_forwarder(kAdmin, {"alice", "example.com", "a@partner.test"}), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().add_forwarder(kAdmin, {"fw", "example.com", "partner.test"}), EINVAL,
              "invalid address \"partner.test\": no '@'");
  STORE_ERROR(store().add_forwarder(kAdmin, {"fw", "nope.test", "a@partner.test"}), ENOENT,
              "no such domain: nope.test");
  STORE_ERROR(store().add_forwarder(kAdmin, {"loop", "example.com", "LOOP@example.net"}), EINVAL,
              "forwarder loop@example.com cannot forward to itself");
  STORE_ERROR(store().get_forwarder("alice@example.com"), ENOENT,
              "alice@example.com is an account, not a forwarder");
  EXPECT_EQ(version(), before);
  // Forwarding to a local account is allowed.
  STORE_OK(store().add_forwarder(kAdmin, {"boss", "example.com", "alice@example.com"}));
}

}  // namespace
}  // namespace postcore::store::testing
