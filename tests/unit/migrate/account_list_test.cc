#include "control/migrate/account_list.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace postcore::migrate {
namespace {

constexpr const char* kFile = "accounts.txt";

Result<AccountList> parse(std::string_view text,
                          std::optional<std::string> domain = std::string("example.com")) {
  return parse_account_list({kFile, text}, AccountListOptions{std::move(domain)});
}

const std::string kGood =
    "Name\tPassword\tRealName\tQuota\n"
    "alice\tsecret\tAlice Liddell\t10M\n"
    "Bob@Example.COM\t\t  Bob Builder \t\n";

std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

void expect_good(const Result<AccountList>& list, const char* what) {
  ASSERT_TRUE(list.ok()) << what << ": " << list.error().message;
  ASSERT_EQ(list->accounts.size(), 2u) << what;
  const auto& alice = list->accounts[0];
  EXPECT_EQ(alice.address(), "alice@example.com") << what;
  EXPECT_EQ(alice.password, "secret") << what;
  EXPECT_EQ(alice.real_name, "Alice Liddell") << what;
  EXPECT_EQ(alice.quota, (Quota{10ull << 20, false})) << what;
  const auto& bob = list->accounts[1];
  EXPECT_EQ(bob.local_part, "bob") << what;
  EXPECT_EQ(bob.domain, "example.com") << what;
  EXPECT_EQ(bob.real_name, "Bob Builder") << what;
  EXPECT_FALSE(bob.quota.has_value()) << what;
  EXPECT_TRUE(list->ignored_fields.empty()) << what;
}

TEST(AccountList, ReadsTheSameAccountsWhateverTheQuirks) {
  struct Case {
    const char* what;
    std::string text;
    uint32_t first_line;
  };
  const Case cases[] = {
      {"plain", kGood, 2},
      {"CRLF", crlf(kGood), 2},
      {"BOM", "\xEF\xBB\xBF" + kGood, 2},
      {"Ctrl-Z", kGood + "\x1A", 2},
      {"BOM, CRLF and Ctrl-Z", "\xEF\xBB\xBF" + crlf(kGood) + "\x1A", 2},
      {"no final line end", kGood.substr(0, kGood.size() - 1), 2},
      {"comments and blank lines",
       "# exported from CommuniGate\n\n" + kGood.substr(0, 29) + "   \n# alice\n" +
           kGood.substr(29),
       6},
  };
  for (const auto& c : cases) {
    auto list = parse(c.text);
    expect_good(list, c.what);
    if (list.ok()) {
      EXPECT_EQ(list->accounts[0].line, c.first_line) << c.what;
    }
  }
}

TEST(AccountList, HeaderFieldsMatchWithoutCaseAndInAnyOrder) {
  auto list = parse("quota\treALname\tNAME\nunlimited\tZoë\tzoe\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->accounts.size(), 1u);
  EXPECT_EQ(list->accounts[0].address(), "zoe@example.com");
  EXPECT_EQ(list->accounts[0].real_name, "Zoë");
  EXPECT_EQ(list->accounts[0].quota, (Quota{0, true}));
}

TEST(AccountList, QuotasFromLimitOrQuota) {
  auto list = parse(
      "Name\tLimit\n"
      "a\t10K\nb\t120K\nc\t1M\nd\t2G\ne\t500\nf\t\ng\tunlimited\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  const std::optional<Quota> expected[] = {Quota{10ull << 10, false},
                                           Quota{120ull << 10, false},
                                           Quota{1ull << 20, false},
                                           Quota{2ull << 30, false},
                                           Quota{500ull << 10, false},
                                           std::nullopt,
                                           Quota{0, true}};
  ASSERT_EQ(list->accounts.size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i)
    EXPECT_EQ(list->accounts[i].quota, expected[i]) << list->accounts[i].local_part;
}

TEST(AccountList, PasswordsClearTextHashAndNewPassword) {
  auto list = parse(
      "Name\tPassword\tUnixPassword\tNewPassword\n"
      "a\told\t\tnew\n"
      "b\t pass with spaces \t\t\n"
      "c\t\t$6$salt$hash\t\n"
      "d\tclear\t$1$x$y\t\n"
      "e\t\t\t\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  const auto& a = list->accounts;
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].password, "new");
  EXPECT_EQ(a[1].password, " pass with spaces ");
  EXPECT_EQ(a[2].password, "");
  EXPECT_EQ(a[2].password_hash, "$6$salt$hash");
  EXPECT_EQ(a[3].password, "clear");
  EXPECT_EQ(a[3].password_hash, "$1$x$y");
  ASSERT_EQ(list->warnings.size(), 1u);
  EXPECT_EQ(list->warnings[0].to_string(),
            "accounts.txt:6:1: 1 account(s) have no Password, NewPassword or UnixPassword and "
            "cannot log in until one is set (lines 6)");
}

TEST(AccountList, UnknownFieldsAreListedOnce) {
  auto list = parse(
      "Name\tMaxMailboxes\tPassword\tAccessModes\n"
      "a\t10\tx\tAll\nb\t20\ty\tMail\nc\t30\tz\tNone\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->accounts.size(), 3u);
  EXPECT_EQ(list->ignored_fields, (std::vector<std::string>{"MaxMailboxes", "AccessModes"}));
  ASSERT_EQ(list->warnings.size(), 2u);
  EXPECT_EQ(list->warnings[0].to_string(),
            "accounts.txt:1:6: field \"MaxMailboxes\" is not imported; its values are ignored");
  EXPECT_EQ(list->warnings[1].to_string(),
            "accounts.txt:1:28: field \"AccessModes\" is not imported; its values are ignored");
}

TEST(AccountList, ShortRowsLeaveMissingFieldsEmptyAndTrailingTabsAreHarmless) {
  auto list = parse("Name\tPassword\tRealName\t\t\nbob\nann\tpw\tAnn\t\t\t\t\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->accounts.size(), 2u);
  EXPECT_EQ(list->accounts[0].password, "");
  EXPECT_EQ(list->accounts[0].real_name, "");
  EXPECT_EQ(list->accounts[1].real_name, "Ann");
}

TEST(AccountList, DomainRules) {
  auto without = parse("Name\nbob@Example.org\nann@example.net\n", std::nullopt);
  ASSERT_TRUE(without.ok()) << without.error().message;
  EXPECT_EQ(without->accounts[0].address(), "bob@example.org");
  EXPECT_EQ(without->accounts[1].address(), "ann@example.net");
  auto same = parse("Name\nbob\nann@EXAMPLE.com\n", std::string("Example.COM"));
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(same->accounts[1].address(), "ann@example.com");
  auto bad_option = parse("Name\nbob\n", std::string("exa mple.com"));
  ASSERT_FALSE(bad_option.ok());
  EXPECT_EQ(bad_option.error().message, "--domain \"exa mple.com\": the domain contains a space");
}

struct BadFile {
  const char* what;
  std::string text;
  std::string error;
  std::optional<std::string> domain = std::string("example.com");
};

TEST(AccountList, RefusesTheFileAtTheFirstProblemWithItsPosition) {
  const std::string nbsp = "\xC2\xA0";
  const std::string nbsp_message =
      "fields are separated by no-break spaces (U+00A0), as happens when a sample is copied "
      "from a web page; separate them with tabs";
  const std::string forms =
      ": write a whole number of kilobytes, or one with K, M or G (10K, 120K, 1M, 2G), or "
      "\"unlimited\"";
  const BadFile cases[] = {
      {"no-break spaces in the header", "Name" + nbsp + "Password\nbob" + nbsp + "pw\n",
       "accounts.txt:1:5: " + nbsp_message},
      {"no-break spaces in a row", "Name\tPassword\nbob" + nbsp + "secret\n",
       "accounts.txt:2:4: " + nbsp_message},
      {"no-break space in a name", "Name\tPassword\nbob" + nbsp + "smith\tpw\n",
       "accounts.txt:2:4: Name \"bob" + nbsp +
           "smith\": the name contains a no-break space (U+00A0), as happens when text is "
           "copied from a web page, which an address local part cannot hold unquoted"},
      {"bad name in the middle", "Name\tPassword\n# staff\nalice\tx\nbob smith\ty\ncarol\tz\n",
       "accounts.txt:4:4: Name \"bob smith\": the name contains a space, which an address local "
       "part cannot hold unquoted"},
      {"bad name, CRLF and BOM", "\xEF\xBB\xBFName\tPassword\r\n\r\nalice\tx\r\nbob..smith\ty\r\n",
       "accounts.txt:4:4: Name \"bob..smith\": the name has two dots in a row"},
      {"bad quota", "Name\tQuota\nalice\t10M\nbob\t12X\n",
       "accounts.txt:3:5: Quota: quota \"12X\" has an unknown unit" + forms},
      {"bad quota after UTF-8 text",
       "Name\tRealName\tLimit\nbob\tJos\xC3\xA9 \xC3\x91"
       "and\xC3\xBA\t1.5G\n",
       "accounts.txt:2:16: Limit: quota \"1.5G\" is not a whole number" + forms},
      {"bad quota after blanks", "Name\tQuota\nbob\t  2X \n",
       "accounts.txt:2:7: Quota: quota \"2X\" has an unknown unit" + forms},
      {"zero quota", "Name\tQuota\nbob\t0\n",
       "accounts.txt:2:5: Quota: quota \"0\" is ambiguous (no space, or no limit?): write "
       "\"unlimited\" or a size, or leave the field empty for the domain default"},
      {"more fields than the header", "Name\tPassword\nbob\tpw\textra\n",
       "accounts.txt:2:8: the line has 3 fields but the header (line 1) has 2"},
      {"value under a nameless column", "Name\tPassword\t\nbob\tpw\tzzz\n",
       "accounts.txt:2:8: a value under a header column that has no name"},
      {"duplicate", "Name\nbob\nalice\nBOB\n",
       "accounts.txt:4:1: Name \"BOB\": account bob@example.com is already on line 2"},
      {"duplicate through the domain", "Name\nbob\nbob@example.com\n",
       "accounts.txt:3:1: Name \"bob@example.com\": account bob@example.com is already on line 2"},
      {"other domain", "Name\nbob@other.org\n",
       "accounts.txt:2:5: Name \"bob@other.org\": the domain other.org is not example.com "
       "(--domain)"},
      {"bad domain", "Name\nbob@exa_mple.com\n",
       "accounts.txt:2:8: Name \"bob@exa_mple.com\": the domain contains '_'"},
      {"no domain anywhere", "Name\nbob\n",
       "accounts.txt:2:1: Name \"bob\": no domain: write NAME@DOMAIN, or give the domain with "
       "--domain",
       std::nullopt},
      {"empty name", "Name\tPassword\n\tpw\n", "accounts.txt:2:1: Name is empty"},
      {"row too short for Name", "Password\tName\npw\n",
       "accounts.txt:2:3: Name is empty: the line has 1 field(s) and Name is field 2"},
      {"no Name field", "Password\tRealName\nx\ty\n",
       "accounts.txt:1:1: the header has no Name field; the first line of an account list names "
       "the fields, separated by tabs, and must include Name"},
      {"header with spaces", "Name Password\nbob pw\n",
       "accounts.txt:1:5: the header has no tab: fields must be separated by tabs, not spaces"},
      {"field twice", "Name\tPassword\tpassword\n",
       "accounts.txt:1:15: field \"password\" appears twice in the header (also field 2)"},
      {"Limit and Quota", "Name\tLimit\tQuota\n",
       "accounts.txt:1:12: fields \"Limit\" and \"Quota\" both give the quota; keep one"},
      {"nameless field in the header", "Name\t\tPassword\n",
       "accounts.txt:1:6: header field 2 has no name"},
      {"Latin-1", "Name\tRealName\nbob\tM\xFCller\n",
       "accounts.txt:2:6: byte 0xFC is not UTF-8; convert the file to UTF-8 first (for example "
       "with iconv -f latin1 -t utf-8)"},
      {"control character",
       "Name\nbo\x01"
       "b\n",
       "accounts.txt:2:3: control character U+0001"},
      {"empty", "",
       "accounts.txt:1:1: the file is empty; an account list starts with a line of "
       "field names separated by tabs"},
      {"comments only", "# nothing\n\n",
       "accounts.txt:1:1: the file is empty; an account list starts with a line of field names "
       "separated by tabs"},
  };
  for (const auto& c : cases) {
    auto list = parse(c.text, c.domain);
    ASSERT_FALSE(list.ok()) << c.what;
    EXPECT_EQ(list.error().message, c.error) << c.what;
    EXPECT_EQ(list.error().code, EINVAL) << c.what;
  }
}

TEST(AccountList, AHundredThousandLines) {
  std::string text = "Name\tPassword\tRealName\tQuota\n";
  constexpr int kAccounts = 100000;
  for (int i = 0; i < kAccounts; ++i)
    text += "user" + std::to_string(i) + "\tpw" + std::to_string(i) + "\tUser " +
            std::to_string(i) + "\t10M\n";
  auto list = parse(text);
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->accounts.size(), static_cast<size_t>(kAccounts));
  EXPECT_EQ(list->accounts.back().address(), "user99999@example.com");
  EXPECT_EQ(list->accounts.back().line, static_cast<uint32_t>(kAccounts + 1));
}

}  // namespace
}  // namespace postcore::migrate
