// Groups and members, and the refusal of every change that would let a group contain
// itself, with the cycle named and nothing changed.
#include <cerrno>

#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

class GroupsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
    STORE_OK(store().add_domain(kAdmin, "other.test"));
  }

  std::vector<std::string> members(const std::string& group) {
    auto got = store().get_group(group);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? got->members : std::vector<std::string>{};
  }

  // Expects `change` to be refused as a cycle with `message`, leaving everything as it was.
  template <typename Change>
  void expect_cycle(Change change, const std::string& message) {
    auto before = store().load_directory();
    ASSERT_TRUE(before.ok());
    const size_t rows = audit_rows();
    STORE_ERROR(change(), ELOOP, message);
    auto after = store().load_directory();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->version, before->version);
    EXPECT_EQ(audit_rows(), rows);
    ASSERT_EQ(after->groups.size(), before->groups.size());
    for (size_t i = 0; i < after->groups.size(); ++i)
      EXPECT_EQ(after->groups[i].members, before->groups[i].members) << after->groups[i].name;
    EXPECT_EQ(after->domains.size(), before->domains.size());
    for (size_t i = 0; i < after->domains.size() && i < before->domains.size(); ++i)
      EXPECT_EQ(after->domains[i].aliases, before->domains[i].aliases);
  }
};

TEST_F(GroupsTest, AddsAndReadsBack) {
  directory::Group staff{"Staff",
                         "example.net",
                         "All Staff",
                         {"Alice@Example.com", "bob@other.test", "Someone@Outside.TEST"}};
  STORE_OK(store().add_group(kAdmin, staff));
  auto got = store().get_group("staff@example.com");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "staff");
  EXPECT_EQ(got->domain, "example.com");
  EXPECT_EQ(got->real_name, "All Staff");
  // In the order given; group members are compared with local names, so lower-cased.
  EXPECT_EQ(got->members, (std::vector<std::string>{"alice@example.com", "bob@other.test",
                                                    "someone@outside.test"}));
  EXPECT_EQ(last_audit().action, "group.add");
  EXPECT_EQ(last_audit().object, "staff@example.com");
  EXPECT_EQ(last_audit().detail,
            "real name \"All Staff\"; members alice@example.com, bob@other.test, "
            "someone@outside.test");
  STORE_OK(store().add_group(kAdmin, group("empty", "example.com")));
  EXPECT_EQ(last_audit().detail, "real name \"\"; members (none)");
  auto listed = store().list_groups("example.com");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "empty");
  EXPECT_EQ((*listed)[1].name, "staff");
  EXPECT_EQ((*listed)[1].members.size(), 3u);
}

TEST_F(GroupsTest, AddRefusals) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_ERROR(store().add_group(kAdmin, group("alice", "example.com")), EEXIST,
              "alice@example.com already exists as an account");
  STORE_ERROR(store().add_group(kAdmin, group("g", "example.com", {"a@x.test", "A@X.test"})),
              EINVAL, "member a@x.test given twice");
  STORE_ERROR(
      store().add_group(kAdmin, group("g", "example.com", {"a@example.com", "a@example.net"})),
      EINVAL, "member a@example.net given twice");
  STORE_ERROR(store().add_group(kAdmin, group("g", "example.com", {"nobody"})), EINVAL,
              "invalid address \"nobody\": no '@'");
  directory::Group bad = group("g", "example.com");
  bad.real_name = "tab\there";
  STORE_ERROR(store().add_group(kAdmin, bad), EINVAL, "invalid real name: control character \\x09");
  STORE_ERROR(store().get_group("g@example.com"), ENOENT, "no such group: g@example.com");
}

TEST_F(GroupsTest, AddsAndRemovesMembers) {
  STORE_OK(store().add_group(kAdmin, group("staff", "example.com")));
  STORE_OK(store().add_group_member(kAdmin, "staff@example.net", "Alice@example.com"));
  EXPECT_EQ(last_audit().action, "group.member.add");
  EXPECT_EQ(last_audit().object, "staff@example.com");
  EXPECT_EQ(last_audit().detail, "member alice@example.com");
  STORE_OK(store().add_group_member(kAdmin, "staff@example.com", "x@outside.test"));
  EXPECT_EQ(members("staff@example.com"),
            (std::vector<std::string>{"alice@example.com", "x@outside.test"}));

  // The same address under another name of its domain is the same member.
  STORE_ERROR(store().add_group_member(kAdmin, "staff@example.com", "alice@example.net"), EEXIST,
              "alice@example.net is already a member of staff@example.com");
  STORE_ERROR(store().add_group_member(kAdmin, "staff@example.com", "X@outside.test"), EEXIST,
              "x@outside.test is already a member of staff@example.com");
  STORE_ERROR(store().add_group_member(kAdmin, "nope@example.com", "a@b.test"), ENOENT,
              "no such group: nope@example.com");
  STORE_ERROR(store().add_group_member(kAdmin, "staff@example.com", "a@b@c"), EINVAL,
              "invalid address \"a@b@c\": local part character '@' is not allowed");

  STORE_OK(store().remove_group_member(kAdmin, "staff@example.com", "ALICE@example.net"));
  EXPECT_EQ(last_audit().action, "group.member.remove");
  EXPECT_EQ(last_audit().detail, "member alice@example.net");
  EXPECT_EQ(members("staff@example.com"), (std::vector<std::string>{"x@outside.test"}));
  STORE_ERROR(store().remove_group_member(kAdmin, "staff@example.com", "alice@example.com"), ENOENT,
              "alice@example.com is not a member of staff@example.com");
}

TEST_F(GroupsTest, SetsTheRealName) {
  STORE_OK(store().add_group(kAdmin, group("staff", "example.com")));
  STORE_OK(store().set_group_real_name(kAdmin, "staff@example.com", "The Staff"));
  EXPECT_EQ(store().get_group("staff@example.com")->real_name, "The Staff");
  EXPECT_EQ(last_audit().action, "group.set");
  EXPECT_EQ(last_audit().detail, "real name \"\" → \"The Staff\"");
}

TEST_F(GroupsTest, RemovingAGroupTakesItOutOfOtherGroups) {
  STORE_OK(store().add_group(kAdmin, group("inner", "example.com", {"a@outside.test"})));
  STORE_OK(store().add_group(
      kAdmin, group("outer", "other.test", {"inner@example.net", "b@outside.test"})));
  STORE_OK(store().remove_group(kAdmin, "inner@example.com"));
  EXPECT_EQ(last_audit().action, "group.remove");
  EXPECT_EQ(last_audit().detail, "had 1 members; removed from groups outer@other.test");
  EXPECT_EQ(members("outer@other.test"), (std::vector<std::string>{"b@outside.test"}));
  STORE_ERROR(store().remove_group(kAdmin, "inner@example.com"), ENOENT,
              "no such group: inner@example.com");
}

TEST_F(GroupsTest, RefusesAGroupInItself) {
  STORE_OK(store().add_group(kAdmin, group("a", "example.com")));
  expect_cycle([&] { return store().add_group_member(kAdmin, "a@example.com", "a@example.com"); },
               "group cycle: a@example.com → a@example.com");
  expect_cycle([&] { return store().add_group_member(kAdmin, "a@example.com", "A@example.NET"); },
               "group cycle: a@example.com → a@example.com");
}

TEST_F(GroupsTest, RefusesADirectCycle) {
  STORE_OK(store().add_group(kAdmin, group("a", "example.com", {"b@example.com"})));
  STORE_OK(store().add_group(kAdmin, group("b", "example.com")));
  expect_cycle([&] { return store().add_group_member(kAdmin, "b@example.com", "a@example.com"); },
               "group cycle: b@example.com → a@example.com → b@example.com");
}

TEST_F(GroupsTest, RefusesAnIndirectCycleOfThree) {
  STORE_OK(store().add_group(kAdmin, group("a", "example.com")));
  STORE_OK(store().add_group(kAdmin, group("b", "example.com")));
  STORE_OK(store().add_group(kAdmin, group("c", "other.test")));
  STORE_OK(store().add_group_member(kAdmin, "a@example.com", "b@example.com"));
  STORE_OK(store().add_group_member(kAdmin, "b@example.com", "c@other.test"));
  expect_cycle([&] { return store().add_group_member(kAdmin, "c@other.test", "a@example.net"); },
               "group cycle: c@other.test → a@example.com → b@example.com → c@other.test");
}

TEST_F(GroupsTest, RefusesACycleClosedByANewGroup) {
  // a already names x, which is no group yet; creating x as a group containing a closes it.
  STORE_OK(store().add_group(kAdmin, group("a", "example.com", {"x@example.com"})));
  expect_cycle(
      [&] { return store().add_group(kAdmin, group("x", "example.com", {"a@example.com"})); },
      "group cycle: x@example.com → a@example.com → x@example.com");
  STORE_ERROR(store().get_group("x@example.com"), ENOENT, "no such group: x@example.com");
}

TEST_F(GroupsTest, RefusesACycleClosedByADomainAlias) {
  // a names b@alias.test, an outside address until alias.test becomes example.com's alias.
  STORE_OK(store().add_group(kAdmin, group("a", "example.com", {"b@alias.test"})));
  STORE_OK(store().add_group(kAdmin, group("b", "example.com", {"a@example.com"})));
  expect_cycle([&] { return store().add_domain_alias(kAdmin, "example.com", "alias.test"); },
               "group cycle: a@example.com → b@example.com → a@example.com");
  STORE_ERROR(store().get_domain("alias.test"), ENOENT, "no such domain: alias.test");
}

TEST_F(GroupsTest, RefusesACycleInAnImport) {
  STORE_OK(store().add_group(kAdmin, group("a", "example.com", {"b@example.com"})));
  STORE_OK(store().add_group(kAdmin, group("b", "example.com")));
  expect_cycle(
      [&] { return store().put_group(kAdmin, group("b", "example.com", {"a@example.com"})); },
      "group cycle: b@example.com → a@example.com → b@example.com");
}

TEST_F(GroupsTest, SharedAndNonGroupMembersAreNoCycle) {
  STORE_OK(store().add_account(kAdmin, account("alice", "example.com")));
  STORE_OK(store().add_group(kAdmin, group("d", "example.com", {"alice@example.com"})));
  STORE_OK(store().add_group(kAdmin, group("b", "example.com", {"d@example.com"})));
  STORE_OK(store().add_group(kAdmin, group("c", "example.com", {"d@example.com"})));
  STORE_OK(store().add_group(
      kAdmin, group("a", "example.com", {"b@example.com", "c@example.com", "d@example.com"})));
  // Mail to alice reaches her by several paths; that is no cycle.
  STORE_OK(store().add_group_member(kAdmin, "b@example.com", "c@example.com"));
  STORE_OK(store().add_group_member(kAdmin, "d@example.com", "a@outside.test"));
}

TEST_F(GroupsTest, LongChainsAreWalkedWithoutRecursion) {
  constexpr int kDepth = 3000;
  STORE_OK(store().transaction([&](Store& s) -> Result<void> {
    for (int i = 0; i < kDepth; ++i) {
      std::vector<std::string> next;
      if (i + 1 < kDepth) next.push_back(fmt::format("g{}@example.com", i + 1));
      if (auto r = s.add_group(kAdmin, group(fmt::format("g{}", i), "example.com", next)); !r)
        return r;
    }
    return {};
  }));
  auto refused = store().add_group_member(kAdmin, fmt::format("g{}@example.com", kDepth - 1),
                                          "g0@example.com");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ELOOP);
  const std::string& message = refused.error().message;
  EXPECT_TRUE(
      message.starts_with("group cycle: g2999@example.com → g0@example.com → "
                          "g1@example.com → "))
      << message.substr(0, 200);
  EXPECT_TRUE(message.ends_with("g2998@example.com → g2999@example.com"));
}

}  // namespace
}  // namespace postcore::store::testing
