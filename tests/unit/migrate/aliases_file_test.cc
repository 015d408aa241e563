#include "control/migrate/aliases_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::migrate {
namespace {

using Kind = AliasTargetKind;

Result<AliasesFile> parse(std::string_view text) {
  return parse_aliases({"aliases", text}, {"Example.COM"});
}

const std::string kAliases =
    "# /etc/aliases\n"                                         // 1
    "postmaster: root\n"                                       // 2
    "Root:  Alice\n"                                           // 3
    "staff: alice, bob,\n"                                     // 4
    "\tcarol,\n"                                               // 5
    "  # dave left\n"                                          // 6
    "\n"                                                       // 7
    "  \"erin\" , alice\n"                                     // 8
    "\"sales team\": bob\n"                                    // 9
    "webmaster: alice@EXAMPLE.com\n"                           // 10
    "friend: Someone@Other.ORG\n"                              // 11
    "list: :include:/etc/mail/list.txt\n"                      // 12
    "prog: \"|/usr/bin/procmail -m /etc/proc.rc\", bob\n"      // 13
    "log: /var/log/mail.archive\n"                             // 14
    "bob: \\bob, bob@elsewhere.net\n"                          // 15
    "quoted: \"john smith\"@other.org, \"ann\"@example.com\n"  // 16
    "named: Fred Bloggs <fred@other.org>\n"                    // 17
    "joined: alice, \\\n"                                      // 18
    "bob\n";                                                   // 19

struct Expected {
  std::string name;
  uint32_t line;
  std::vector<std::tuple<Kind, std::string, uint32_t, uint32_t>> targets;
};

std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

void expect_aliases(const Result<AliasesFile>& file, const char* what) {
  ASSERT_TRUE(file.ok()) << what << ": " << file.error().message;
  EXPECT_EQ(file->domain, "example.com");
  EXPECT_EQ(file->file, "aliases");
  const Expected expected[] = {
      {"postmaster", 2, {{Kind::local, "root", 2, 13}}},
      {"root", 3, {{Kind::local, "alice", 3, 8}}},
      {"staff",
       4,
       {{Kind::local, "alice", 4, 8},
        {Kind::local, "bob", 4, 15},
        {Kind::local, "carol", 5, 2},
        {Kind::local, "erin", 8, 3}}},
      {"webmaster", 10, {{Kind::local, "alice", 10, 12}}},
      {"friend", 11, {{Kind::remote, "Someone@other.org", 11, 9}}},
      {"list", 12, {{Kind::include, "/etc/mail/list.txt", 12, 7}}},
      {"prog",
       13,
       {{Kind::command, "/usr/bin/procmail -m /etc/proc.rc", 13, 7}, {Kind::local, "bob", 13, 45}}},
      {"log", 14, {{Kind::file, "/var/log/mail.archive", 14, 6}}},
      {"bob", 15, {{Kind::local, "bob", 15, 6}, {Kind::remote, "bob@elsewhere.net", 15, 12}}},
      {"quoted",
       16,
       {{Kind::remote, "\"john smith\"@other.org", 16, 9}, {Kind::local, "ann", 16, 33}}},
      {"named", 17, {{Kind::remote, "fred@other.org", 17, 8}}},
      {"joined", 18, {{Kind::local, "alice", 18, 9}, {Kind::local, "bob", 19, 1}}},
  };
  ASSERT_EQ(file->entries.size(), std::size(expected)) << what;
  for (size_t i = 0; i < std::size(expected); ++i) {
    const AliasEntry& entry = file->entries[i];
    EXPECT_EQ(entry.name, expected[i].name) << what;
    EXPECT_EQ(entry.line, expected[i].line) << what << " " << entry.name;
    ASSERT_EQ(entry.targets.size(), expected[i].targets.size()) << what << " " << entry.name;
    for (size_t j = 0; j < entry.targets.size(); ++j) {
      const auto& [kind, value, line, column] = expected[i].targets[j];
      const AliasTarget& t = entry.targets[j];
      EXPECT_EQ(t.kind, kind) << what << " " << entry.name << " " << value;
      EXPECT_EQ(t.value, value) << what << " " << entry.name;
      EXPECT_EQ(t.line, line) << what << " " << entry.name << " " << value;
      EXPECT_EQ(t.column, column) << what << " " << entry.name << " " << value;
    }
  }
  const std::vector<std::string> not_imported = {
      "aliases:9:1: alias \"sales team\" is not imported: the name contains a space, which an "
      "address local part cannot hold unquoted",
      "aliases:12:7: alias \"list\": :include:/etc/mail/list.txt is not imported (postcore reads "
      "no include files; add the members to a group)",
      "aliases:13:7: alias \"prog\": command \"|/usr/bin/procmail -m /etc/proc.rc\" is not "
      "imported (postcore does not run programs on delivery)",
      "aliases:14:6: alias \"log\": file /var/log/mail.archive is not imported (postcore "
      "delivers to mailboxes, not files)",
  };
  std::vector<std::string> got;
  for (const auto& note : file->not_imported) got.push_back(note.to_string());
  EXPECT_EQ(got, not_imported) << what;
}

TEST(AliasesFile, ClassifiesTargetsWhateverTheQuirks) {
  struct Case {
    const char* what;
    std::string text;
  };
  const Case cases[] = {
      {"plain", kAliases},
      {"CRLF", crlf(kAliases)},
      {"BOM", "\xEF\xBB\xBF" + kAliases},
      {"Ctrl-Z", kAliases + "\x1A"},
      {"BOM, CRLF and Ctrl-Z", "\xEF\xBB\xBF" + crlf(kAliases) + "\x1A"},
  };
  for (const auto& c : cases) expect_aliases(parse(c.text), c.what);
}

TEST(AliasesFile, RepeatedTargetsAndUnusableLocalTargets) {
  auto file = parse("a: bob, BOB, bob@example.com, \"x y\", \"|cmd\"\n");
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->entries.size(), 1u);
  ASSERT_EQ(file->entries[0].targets.size(), 2u);
  EXPECT_EQ(file->entries[0].targets[0].value, "bob");
  EXPECT_EQ(file->entries[0].targets[1].kind, Kind::command);
  EXPECT_EQ(file->entries[0].targets[1].value, "cmd");
  ASSERT_EQ(file->not_imported.size(), 2u);
  EXPECT_EQ(file->not_imported[0].to_string(),
            "aliases:1:32: alias \"a\": target \"\"x y\"\" is not imported: the name contains a "
            "space, which an address local part cannot hold unquoted");
}

TEST(AliasesFile, ColumnsCountCharacters) {
  auto file = parse("team: \"J\xC3\xBCrgen Gro\xC3\x9F\", a b\n");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().message,
            "aliases:1:23: a space in target \"a b\": separate targets with ',' and quote "
            "commands and file names");
}

struct BadFile {
  const char* what;
  std::string text;
  std::string error;
};

TEST(AliasesFile, RefusesSyntaxErrorsWithTheirPosition) {
  const BadFile cases[] = {
      {"no colon", "root alice\n",
       "aliases:1:11: expected ':' after the alias name (an alias is \"name: target, ...\")"},
      {"unterminated quoted name", "\"sales: bob\n",
       "aliases:1:1: the quoted alias name has no closing '\"'"},
      {"text between quoted name and colon", "\"sales\" team: bob\n",
       "aliases:1:9: expected ':' after the alias name"},
      {"space in a name", "sales team: bob\n",
       "aliases:1:6: the alias name contains a space or a '\"'; a name with special characters "
       "must be quoted as a whole (aliases(5))"},
      {"domain in a name", "bob@example.com: alice\n",
       "aliases:1:4: an alias name is a local name without a domain (aliases(5)); quote the name "
       "if '@' is part of it"},
      {"empty name", ": alice\n", "aliases:1:1: the alias name is empty"},
      {"repeated name", "root: a\n# again\nROOT: b\n",
       "aliases:3:1: alias \"root\" is already defined on line 1"},
      {"continuation first", "\n  alice\nroot: bob\n",
       "aliases:2:1: a line starting with a space continues the alias before it, and there is "
       "none"},
      {"no targets", "root:\n", "aliases:1:6: alias \"root\" has no targets"},
      {"only commas", "root: , ,\n", "aliases:1:10: alias \"root\" has no targets"},
      {"comment after a target", "root: alice # the admin\n",
       "aliases:1:13: '#' starts a comment only at the beginning of a line (aliases(5))"},
      {"space in a target", "root: alice bob\n",
       "aliases:1:12: a space in target \"alice bob\": separate targets with ',' and quote "
       "commands and file names"},
      {"bad domain in a target", "root: alice@exa_mple.com\n",
       "aliases:1:16: target \"alice@exa_mple.com\": the domain contains '_'"},
      {"bad remote local part", "root: a..b@other.org\n",
       "aliases:1:8: target \"a..b@other.org\": the name has two dots in a row; quote the local "
       "part if it is meant"},
      {"empty remote local part", "root: @other.org\n",
       "aliases:1:7: target \"@other.org\" has an empty local part"},
      {"error on a continuation line", "# x\nstaff: alice,\n\tbob smith\n",
       "aliases:3:5: a space in target \"bob smith\": separate targets with ',' and quote "
       "commands and file names"},
      {"error in the middle, CRLF", "a: b\r\nc d: e\r\nf: g\r\n",
       "aliases:2:2: the alias name contains a space or a '\"'; a name with special characters "
       "must be quoted as a whole (aliases(5))"},
      {"unterminated quoted target", "prog: \"|/bin/x\n",
       "aliases:1:7: the quoted string has no closing '\"'"},
      {"text after a quoted target", "x: \"a b\"c\n",
       "aliases:1:9: unexpected text after the quoted string in target \"\"a b\"c\""},
      {"empty command", "x: |\n", "aliases:1:4: the command after '|' is empty"},
      {"empty include", "x: :include:  \n", "aliases:1:4: the :include: has no file name"},
      {"Latin-1", "x: J\xFCrgen\n",
       "aliases:1:5: byte 0xFC is not UTF-8; convert the file to UTF-8 first (for example with "
       "iconv -f latin1 -t utf-8)"},
  };
  for (const auto& c : cases) {
    auto file = parse(c.text);
    ASSERT_FALSE(file.ok()) << c.what;
    EXPECT_EQ(file.error().message, c.error) << c.what;
  }
  auto bad_domain = parse_aliases({"aliases", "a: b\n"}, {"-bad.example"});
  ASSERT_FALSE(bad_domain.ok());
  EXPECT_EQ(bad_domain.error().message,
            "--domain \"-bad.example\": a domain label starts or ends with '-'");
}

}  // namespace
}  // namespace postcore::migrate
