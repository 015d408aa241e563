#include "control/migrate/mail_names.h"

#include <gtest/gtest.h>

#include <string>

namespace postcore::migrate {
namespace {

TEST(MailNames, AcceptsDotAtoms) {
  for (const char* name : {"bob", "bob.smith", "o'brien", "a+tag", "x_y-z", "#hash", "{curly}",
                           "A1", "!#$%&'*+-/=?^_`{|}~"})
    EXPECT_FALSE(check_local_part(name).has_value()) << name;
  EXPECT_FALSE(check_local_part(std::string(64, 'a')).has_value());
}

struct BadName {
  std::string name;
  size_t offset;
  std::string message;
};

TEST(MailNames, RefusesWhatADotAtomCannotHold) {
  const BadName cases[] = {
      {"", 0, "the name is empty"},
      {".bob", 0, "the name starts with a dot"},
      {"bob.", 3, "the name ends with a dot"},
      {"bob..smith", 3, "the name has two dots in a row"},
      {"bob smith", 3,
       "the name contains a space, which an address local part cannot hold unquoted"},
      {"bob\tsmith", 3,
       "the name contains a tab, which an address local part cannot hold unquoted"},
      {"bob@x", 3, "the name contains '@', which an address local part cannot hold unquoted"},
      {"a(b)", 1, "the name contains '(', which an address local part cannot hold unquoted"},
      {"j\xC3\xBCrgen", 1,
       "the name contains a non-ASCII character, which an address local part cannot hold "
       "unquoted"},
      {"bob\xC2\xA0smith", 3,
       "the name contains a no-break space (U+00A0), as happens when text is copied from a web "
       "page, which an address local part cannot hold unquoted"},
      {std::string(65, 'a'), 64, "the name is longer than 64 characters"},
  };
  for (const auto& c : cases) {
    auto problem = check_local_part(c.name);
    ASSERT_TRUE(problem.has_value()) << c.name;
    EXPECT_EQ(problem->offset, c.offset) << c.name;
    EXPECT_EQ(problem->message, c.message) << c.name;
  }
}

TEST(MailNames, Domains) {
  for (const char* domain : {"example.com", "EXAMPLE.com", "a-b.example", "localhost",
                             "xn--bcher-kva.example", "1.2.3.example"})
    EXPECT_FALSE(check_domain(domain).has_value()) << domain;
  const BadName cases[] = {
      {"", 0, "the domain is empty"},
      {"example.com.", 12, "the domain ends with a dot"},
      {"a..b", 2, "the domain has an empty label"},
      {"-a.example", 0, "a domain label starts or ends with '-'"},
      {"a-.example", 1, "a domain label starts or ends with '-'"},
      {"exa_mple.com", 3, "the domain contains '_'"},
      {"exa mple.com", 3, "the domain contains a space"},
      {"b\xC3\xBC"
       "cher.example",
       1,
       "the domain contains a non-ASCII character; give internationalised domains in their xn-- "
       "form"},
      {std::string(64, 'a') + ".com", 0, "a domain label is longer than 63 characters"},
  };
  for (const auto& c : cases) {
    auto problem = check_domain(c.name);
    ASSERT_TRUE(problem.has_value()) << c.name;
    EXPECT_EQ(problem->offset, c.offset) << c.name;
    EXPECT_EQ(problem->message, c.message) << c.name;
  }
  std::string long_domain;
  for (int i = 0; i < 5; ++i) long_domain += std::string(60, 'a') + ".";
  long_domain += "com";
  EXPECT_EQ(check_domain(long_domain)->message, "the domain is longer than 253 characters");
}

TEST(MailNames, CaseHelpers) {
  EXPECT_EQ(lower_ascii("Bob.SMITH@Example.COM"), "bob.smith@example.com");
  EXPECT_EQ(lower_ascii("\xC3\x9C"), "\xC3\x9C");  // non-ASCII untouched
  EXPECT_TRUE(equals_ignoring_case("UnixPassword", "unixpassword"));
  EXPECT_FALSE(equals_ignoring_case("Name", "Names"));
}

}  // namespace
}  // namespace postcore::migrate
