#include "control/migrate/unix_users.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace postcore::migrate {
namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"                                 // 1
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"                 // 2
    "# people\n"                                                        // 3
    "alice:x:1000:1000:Alice Liddell,Room 1,,:/home/alice:/bin/bash\n"  // 4
    "bob:x:1001:1001:& Builder:/home/bob:/bin/zsh\n"                    // 5
    "carol:x:1002:1002::/home/carol:/usr/sbin/nologin\n"                // 6
    "dave:x:1003:1003:Dave:/home/dave:/bin/false\n"                     // 7
    "erin:x:1004:1004:Erin:/home/erin:/bin/bash\n"                      // 8
    "frank:x:1005:1005:Frank:/home/frank:/bin/bash\n"                   // 9
    "grace:x:1006:1006:Grace:/home/grace:/bin/bash\n"                   // 10
    "heidi:x:1007:1007:Heidi:/home/heidi:/bin/bash\n"                   // 11
    "ivan:$6$salt$hash:1008:1008:Ivan:/home/ivan:/bin/sh\n"             // 12
    "\n"                                                                // 13
    "judy:x:1009:1009:Judy:/home/judy:\n"                               // 14
    "kim:x:1010:1010:Kim:/home/kim:/bin/bash\n"                         // 15
    "mallory:*:1011:1011:Mallory:/home/mallory:/bin/bash\n"             // 16
    "niaj:x:1012:1012:Niaj:/home/niaj:/bin/bash\n"                      // 17
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";     // 18

const std::string kShadow =
    "root:*:19000:0:99999:7:::\n"                // 1
    "daemon:*:19000:0:99999:7:::\n"              // 2
    "alice:$y$j9T$abc$def:19000:0:99999:7:::\n"  // 3
    "bob:$6$s$h:19000:0:99999:7::20000:\n"       // 4
    "carol:!:19000:0:99999:7:::\n"               // 5
    "dave:$6$x$y:19000:0:99999:7:::\n"           // 6
    "erin:!$6$s$h:19000:0:99999:7:::\n"          // 7
    "frank::19000:0:99999:7:::\n"                // 8
    "grace:!!:19000::::::\n"                     // 9
    "heidi:NP:19000:0:99999:7:::\n"              // 10
    "judy:abcdefghijklm:19000:0:99999:7:::\n"    // 11
    "ghost:$6$a$b:19000:0:99999:7:::\n"          // 12
    "niaj:*LK*:19000:0:99999:7:::\n"             // 13
    "nobody:*:19000:0:99999:7:::\n";             // 14

Result<UnixUsers> parse(std::string_view passwd, std::optional<std::string_view> shadow,
                        uint32_t min_uid = 1000) {
  std::optional<InputFile> shadow_file;
  if (shadow) shadow_file = InputFile{"shadow", *shadow};
  return parse_unix_users({"passwd", passwd}, shadow_file, {"Example.COM", min_uid});
}

std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

struct Skip {
  std::string login;
  SkipReason reason;
  std::string note;
};

void expect_good(const Result<UnixUsers>& users, const char* what) {
  ASSERT_TRUE(users.ok()) << what << ": " << users.error().message;
  const auto& a = users->accounts;
  ASSERT_EQ(a.size(), 4u) << what;
  EXPECT_EQ(a[0].address(), "alice@example.com") << what;
  EXPECT_EQ(a[0].real_name, "Alice Liddell") << what;
  EXPECT_EQ(a[0].password_hash, "$y$j9T$abc$def") << what;
  EXPECT_EQ(a[0].uid, 1000u) << what;
  EXPECT_EQ(a[0].passwd_line, 4u) << what;
  EXPECT_EQ(a[0].shadow_line, 3u) << what;
  EXPECT_FALSE(a[0].expires_on_day.has_value()) << what;
  EXPECT_EQ(a[1].local_part, "bob") << what;
  EXPECT_EQ(a[1].real_name, "Bob Builder") << what;
  EXPECT_EQ(a[1].expires_on_day, 20000) << what;
  EXPECT_EQ(a[2].local_part, "ivan") << what;
  EXPECT_EQ(a[2].password_hash, "$6$salt$hash") << what;
  EXPECT_EQ(a[2].shadow_line, 0u) << what;
  EXPECT_EQ(a[3].local_part, "judy") << what;
  EXPECT_EQ(a[3].password_hash, "abcdefghijklm") << what;

  const Skip skips[] = {
      {"root", SkipReason::system_user,
       "passwd:1:8: user \"root\" skipped: system user (UID 0 is below --min-uid 1000)"},
      {"daemon", SkipReason::system_user,
       "passwd:2:10: user \"daemon\" skipped: system user (UID 1 is below --min-uid 1000)"},
      {"carol", SkipReason::no_login_shell,
       "passwd:6:32: user \"carol\" skipped: shell /usr/sbin/nologin does not allow login"},
      {"dave", SkipReason::no_login_shell,
       "passwd:7:34: user \"dave\" skipped: shell /bin/false does not allow login"},
      {"erin", SkipReason::locked, "shadow:7:6: user \"erin\" skipped: the login is locked ('!')"},
      {"frank", SkipReason::empty_password,
       "shadow:8:7: user \"frank\" skipped: the password is empty (anyone could log in)"},
      {"grace", SkipReason::locked,
       "shadow:9:7: user \"grace\" skipped: the login is locked ('!')"},
      {"heidi", SkipReason::locked,
       "shadow:10:7: user \"heidi\" skipped: \"NP\" is not a password hash, so the login is "
       "disabled"},
      {"kim", SkipReason::no_shadow_entry,
       "passwd:15:5: user \"kim\" skipped: the password is in the shadow file, which has no line "
       "for this user"},
      {"mallory", SkipReason::locked,
       "passwd:16:9: user \"mallory\" skipped: the login is locked ('*')"},
      {"niaj", SkipReason::locked, "shadow:13:6: user \"niaj\" skipped: the login is locked ('*')"},
      {"nobody", SkipReason::no_login_shell,
       "passwd:18:42: user \"nobody\" skipped: shell /usr/sbin/nologin does not allow login"},
  };
  ASSERT_EQ(users->skipped.size(), std::size(skips)) << what;
  for (size_t i = 0; i < std::size(skips); ++i) {
    EXPECT_EQ(users->skipped[i].login, skips[i].login) << what;
    EXPECT_EQ(users->skipped[i].reason, skips[i].reason) << what << " " << skips[i].login;
    EXPECT_EQ(users->skipped[i].note.to_string(), skips[i].note) << what;
  }
  ASSERT_EQ(users->warnings.size(), 1u) << what;
  EXPECT_EQ(users->warnings[0].to_string(),
            "shadow:12:1: the passwd file has no user for this shadow line; ignored")
      << what;
}

TEST(UnixUsers, OneAccountPerLoginUserWhateverTheQuirks) {
  struct Case {
    const char* what;
    std::string passwd;
    std::string shadow;
  };
  const Case cases[] = {
      {"plain", kPasswd, kShadow},
      {"CRLF", crlf(kPasswd), crlf(kShadow)},
      {"BOM", "\xEF\xBB\xBF" + kPasswd, "\xEF\xBB\xBF" + kShadow},
      {"Ctrl-Z", kPasswd + "\x1A", kShadow + "\x1A"},
      {"BOM, CRLF and Ctrl-Z", "\xEF\xBB\xBF" + crlf(kPasswd) + "\x1A",
       "\xEF\xBB\xBF" + crlf(kShadow) + "\x1A"},
  };
  for (const auto& c : cases) expect_good(parse(c.passwd, c.shadow), c.what);
}

TEST(UnixUsers, WithoutShadowOnlyHashesInPasswdCount) {
  auto users = parse(kPasswd, std::nullopt);
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->accounts.size(), 1u);
  EXPECT_EQ(users->accounts[0].local_part, "ivan");
  bool reported = false;
  for (const auto& s : users->skipped)
    if (s.login == "alice") {
      reported = true;
      EXPECT_EQ(s.reason, SkipReason::no_shadow_entry);
      EXPECT_EQ(s.note.to_string(),
                "passwd:4:7: user \"alice\" skipped: the password is in the shadow file, which "
                "was not given (--shadow)");
    }
  EXPECT_TRUE(reported);
  EXPECT_TRUE(users->warnings.empty());
}

TEST(UnixUsers, MinUidAndNisAndOddLogins) {
  auto users = parse(
      "root:$6$r$h:0:0:Charlie &:/root:/bin/bash\n"
      "+@admins::::::\n"
      "-baduser:::::: \n"
      "svc$:$6$m$h:500:500::/:/bin/sh\n"
      "Bob:$6$b$h:1001:1001:Bob:/home/Bob:/bin/bash\n"
      "bad(login):$6$b$h:1002:1002::/:/bin/sh\n",
      std::nullopt, 0);
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->accounts.size(), 3u);
  EXPECT_EQ(users->accounts[0].real_name, "Charlie Root");
  EXPECT_EQ(users->accounts[1].local_part, "svc$");
  EXPECT_EQ(users->accounts[2].local_part, "bob");
  ASSERT_EQ(users->skipped.size(), 3u);
  EXPECT_EQ(users->skipped[0].reason, SkipReason::nis_entry);
  EXPECT_EQ(users->skipped[0].login, "+@admins");
  EXPECT_EQ(users->skipped[1].note.to_string(), "passwd:3:1: NIS compat entry: not imported");
  EXPECT_EQ(users->skipped[2].reason, SkipReason::not_an_address);
  EXPECT_EQ(users->skipped[2].note.to_string(),
            "passwd:6:4: user \"bad(login)\" skipped: the login cannot be an address: the name "
            "contains '(', which an address local part cannot hold unquoted");
}

struct BadFiles {
  const char* what;
  std::string passwd;
  std::optional<std::string> shadow;
  std::string error;
};

TEST(UnixUsers, RefusesMalformedLinesWithTheirPosition) {
  const BadFiles cases[] = {
      {"six passwd fields", "alice:x:1000:1000:Alice:/home/alice\n", std::nullopt,
       "passwd:1:36: a passwd(5) line has 7 fields separated by ':', this one has 6"},
      {"eight passwd fields", "# c\n\nalice:x:1000:1000:Alice:/home/alice:/bin/sh:extra\n",
       std::nullopt, "passwd:3:45: a passwd(5) line has 7 fields separated by ':', this one has 8"},
      {"UID not a number", "alice:x:10a0:1000::/home/alice:/bin/sh\n", std::nullopt,
       "passwd:1:9: field 3 (UID) is not a number"},
      {"negative UID", "alice:x:-1:1000::/home/alice:/bin/sh\n", std::nullopt,
       "passwd:1:9: field 3 (UID) is not a number"},
      {"GID empty", "alice:x:1000:::/home/alice:/bin/sh\n", std::nullopt,
       "passwd:1:14: field 4 (GID) is not a number"},
      {"empty login", ":x:1000:1000::/:/bin/sh\n", std::nullopt,
       "passwd:1:1: the login name is empty"},
      {"login twice",
       "a:x:1000:1000::/:/bin/sh\nb:x:1001:1001::/:/bin/sh\na:x:1002:1002::/:/bin/sh\n",
       std::nullopt, "passwd:3:1: login \"a\" is already on line 1"},
      {"same address twice", "Bob:$6$a$b:1000:1000::/:/bin/sh\nbob:$6$c$d:1001:1001::/:/bin/sh\n",
       std::nullopt,
       "passwd:2:1: user \"bob\" and the user on line 1 would both be account bob@example.com "
       "(names are not case-sensitive in addresses)"},
      {"bad line in the middle, CRLF",
       "alice:x:1000:1000::/home/alice:/bin/sh\r\n# "
       "x\r\nbob:x:1001\r\ncarol:x:1002:1002::/:/bin/sh\r\n",
       std::nullopt, "passwd:3:11: a passwd(5) line has 7 fields separated by ':', this one has 3"},
      {"eight shadow fields", "alice:x:1000:1000::/:/bin/sh\n",
       std::string("alice:$6$a$b:19000:0:99999:7::\n"),
       "shadow:1:31: a shadow(5) line has 9 fields separated by ':', this one has 8"},
      {"shadow expiry not a number", "alice:x:1000:1000::/:/bin/sh\n",
       std::string("\xEF\xBB\xBF# shadow\nalice:$6$a$b:19000:0:99999:7::soon:\n"),
       "shadow:2:31: field 8 (account expiration date) is not a number"},
      {"shadow login twice", "alice:x:1000:1000::/:/bin/sh\n",
       std::string("alice:!:1:0:99999:7:::\nalice:!:1:0:99999:7:::\n"),
       "shadow:2:1: login \"alice\" is already on line 1"},
      {"binary shadow", "alice:x:1000:1000::/:/bin/sh\n", std::string("alice:\x01", 7),
       "shadow:1:7: control character U+0001"},
  };
  for (const auto& c : cases) {
    auto users = parse(c.passwd, c.shadow);
    ASSERT_FALSE(users.ok()) << c.what;
    EXPECT_EQ(users.error().message, c.error) << c.what;
  }
  auto bad_domain = parse_unix_users({"passwd", ""}, std::nullopt, {"", 1000});
  ASSERT_FALSE(bad_domain.ok());
  EXPECT_EQ(bad_domain.error().message, "--domain \"\": the domain is empty");
}

}  // namespace
}  // namespace postcore::migrate
