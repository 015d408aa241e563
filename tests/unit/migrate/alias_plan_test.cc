#include "control/migrate/alias_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::migrate {
namespace {

AliasPlan plan(std::string_view text) {
  auto file = parse_aliases({"aliases", text}, {"example.com"});
  EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().message);
  return file.ok() ? plan_aliases(*file) : AliasPlan{};
}

TEST(AliasPlan, OneLocalTargetIsAnAccountAlias) {
  auto p = plan("postmaster: root\nwebmaster: \\alice\nsales: bob@example.com, \"|/bin/log\"\n");
  ASSERT_EQ(p.account_aliases.size(), 3u);
  EXPECT_EQ(p.account_aliases[0].name, "postmaster");
  EXPECT_EQ(p.account_aliases[0].account, "root");
  EXPECT_EQ(p.account_aliases[0].line, 1u);
  EXPECT_EQ(p.account_aliases[1].account, "alice");
  EXPECT_EQ(p.account_aliases[2].account, "bob");
  EXPECT_TRUE(p.forwarders.empty());
  EXPECT_TRUE(p.groups.empty());
  ASSERT_EQ(p.not_imported.size(), 1u);  // the command, from the file
}

TEST(AliasPlan, OneRemoteTargetIsAForwarder) {
  auto p = plan("friend: someone@other.org\n");
  ASSERT_EQ(p.forwarders.size(), 1u);
  EXPECT_EQ(p.forwarders[0].name, "friend");
  EXPECT_EQ(p.forwarders[0].address, "someone@other.org");
  EXPECT_EQ(p.domain, "example.com");
}

TEST(AliasPlan, SeveralTargetsAreAGroup) {
  auto p = plan("staff: alice, bob@example.com,\n  carol@other.org, /dev/null\n");
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups[0].name, "staff");
  EXPECT_EQ(p.groups[0].members,
            (std::vector<std::string>{"alice@example.com", "bob@example.com", "carol@other.org"}));
  EXPECT_EQ(p.groups[0].line, 1u);
  ASSERT_EQ(p.not_imported.size(), 1u);
  EXPECT_EQ(p.not_imported[0].to_string(),
            "aliases:2:20: alias \"staff\": file /dev/null is not imported (postcore delivers to "
            "mailboxes, not files)");
}

TEST(AliasPlan, AnAliasNamingItselfKeepsAndForwards) {
  auto p = plan("bob: \\bob, bob@elsewhere.net\nann: ann, x, y@other.org\n");
  ASSERT_EQ(p.keep_and_forward.size(), 2u);
  EXPECT_EQ(p.keep_and_forward[0].account, "bob");
  EXPECT_EQ(p.keep_and_forward[0].forward_to, (std::vector<std::string>{"bob@elsewhere.net"}));
  EXPECT_EQ(p.keep_and_forward[1].forward_to,
            (std::vector<std::string>{"x@example.com", "y@other.org"}));
  EXPECT_TRUE(p.groups.empty());
}

TEST(AliasPlan, AliasesWithNothingToImportAreListed) {
  auto p = plan(
      "list: :include:/etc/mail/list\n"
      "prog: \"|/usr/bin/vacation bob\", /var/mail/archive\n"
      "root: \\root\n");
  EXPECT_TRUE(p.account_aliases.empty());
  std::vector<std::string> got;
  for (const auto& note : p.not_imported) got.push_back(note.to_string());
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "aliases:1:7: alias \"list\": :include:/etc/mail/list is not imported (postcore "
                "reads no include files; add the members to a group)",
                "aliases:2:7: alias \"prog\": command \"|/usr/bin/vacation bob\" is not imported "
                "(postcore does not run programs on delivery)",
                "aliases:2:33: alias \"prog\": file /var/mail/archive is not imported (postcore "
                "delivers to mailboxes, not files)",
                "aliases:1:1: alias \"list\" is not imported: none of its targets can be imported",
                "aliases:2:1: alias \"prog\" is not imported: none of its targets can be imported",
                "aliases:3:1: alias \"root\" is not imported: it delivers only to the account of "
                "the same name, which the account import brings",
            }));
}

}  // namespace
}  // namespace postcore::migrate
