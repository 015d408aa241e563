// Names, domains, addresses and networks as typed by operators: accepted spellings and
// their canonical form, and the exact message for each kind of mistake.
#include <gtest/gtest.h>

#include <cerrno>

#include "control/store/input_syntax.h"

namespace postcore::store {
namespace {

struct Case {
  const char* input;
  const char* expected;  // canonical form, or the error message
};

TEST(LocalPart, AcceptsDotAtomsAndLowerCases) {
  const std::string longest(64, 'a');
  for (const Case& c :
       {Case{"alice", "alice"}, Case{"Alice.Smith", "alice.smith"}, Case{"a+tag", "a+tag"},
        Case{"o'brien", "o'brien"}, Case{"x_y-z", "x_y-z"},
        Case{"!#$%&'*+-/=?^_`{|}~", "!#$%&'*+-/=?^_`{|}~"}, Case{longest.c_str(), nullptr}}) {
    auto result = normalize_local_part(c.input);
    ASSERT_TRUE(result.ok()) << c.input << ": " << result.error().message;
    if (c.expected != nullptr) {
      EXPECT_EQ(*result, c.expected);
    }
  }
}

TEST(LocalPart, RefusesWithTheReason) {
  const std::string long_name(65, 'a');
  for (const Case& c : {
           Case{"", "invalid name \"\": empty"},
           Case{long_name.c_str(),
                "invalid name "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": "
                "longer than 64 characters"},
           Case{".alice", "invalid name \".alice\": starts or ends with a dot"},
           Case{"alice.", "invalid name \"alice.\": starts or ends with a dot"},
           Case{"a..b", "invalid name \"a..b\": two dots in a row"},
           Case{"al ice", "invalid name \"al ice\": character ' ' is not allowed"},
           Case{"a@b", "invalid name \"a@b\": character '@' is not allowed"},
           Case{"a\"b", "invalid name \"a\"b\": character '\"' is not allowed"},
           Case{"a\nb", "invalid name \"a\\x0ab\": character '\\x0a' is not allowed"},
           Case{"j\xc3\xb6rg", "invalid name \"j\\xc3\\xb6rg\": character '\\xc3' is not allowed"},
       }) {
    auto result = normalize_local_part(c.input);
    ASSERT_FALSE(result.ok()) << c.input;
    EXPECT_EQ(result.error().code, EINVAL);
    EXPECT_EQ(result.error().message, c.expected);
  }
}

TEST(Domain, AcceptsHostNamesLowerCasedWithoutTrailingDot) {
  for (const Case& c : {Case{"example.com", "example.com"}, Case{"Example.COM.", "example.com"},
                        Case{"localhost", "localhost"}, Case{"a-b.c0.example", "a-b.c0.example"},
                        Case{"xn--bcher-kva.example", "xn--bcher-kva.example"},
                        Case{"123.example", "123.example"}}) {
    auto result = normalize_domain(c.input);
    ASSERT_TRUE(result.ok()) << c.input << ": " << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(Domain, RefusesWithTheReason) {
  const std::string long_label = std::string(64, 'a') + ".com";
  std::string long_domain;
  while (long_domain.size() < 254) long_domain += "abcdefghi.";
  long_domain += "com";
  for (const Case& c : {
           Case{"", "invalid domain \"\": empty"},
           Case{".", "invalid domain \".\": empty label"},
           Case{"a..com", "invalid domain \"a..com\": empty label"},
           Case{".a.com", "invalid domain \".a.com\": empty label"},
           Case{"a.com..", "invalid domain \"a.com..\": empty label"},
           Case{"-a.com", "invalid domain \"-a.com\": label \"-a\" starts or ends with a hyphen"},
           Case{"a-.com", "invalid domain \"a-.com\": label \"a-\" starts or ends with a hyphen"},
           Case{"a_b.com", "invalid domain \"a_b.com\": character '_' is not allowed"},
           Case{"[192.0.2.1]", "invalid domain \"[192.0.2.1]\": character '[' is not allowed"},
           Case{"b\xc3\xbc"
                "cher.de",
                "invalid domain \"b\\xc3\\xbccher.de\": character '\\xc3' is not allowed (give "
                "international names in punycode)"},
       }) {
    auto result = normalize_domain(c.input);
    ASSERT_FALSE(result.ok()) << c.input;
    EXPECT_EQ(result.error().code, EINVAL);
    EXPECT_EQ(result.error().message, c.expected);
  }
  auto label = normalize_domain(long_label);
  ASSERT_FALSE(label.ok());
  EXPECT_EQ(label.error().message, "invalid domain \"" + long_label + "\": label \"" +
                                       std::string(64, 'a') + "\" is longer than 63 characters");
  auto whole = normalize_domain(long_domain);
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().message,
            "invalid domain \"" + long_domain + "\": longer than 253 characters");
}

TEST(Address, SplitsAndLowerCases) {
  auto plain = parse_address("Alice@Example.COM");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->local, "alice");
  EXPECT_EQ(plain->domain, "example.com");
  EXPECT_EQ(plain->text(), "alice@example.com");
  auto kept = parse_address("Bob.Smith@Other.ORG.", /*keep_local_case=*/true);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->text(), "Bob.Smith@other.org");
}

TEST(Address, RefusesWithTheReason) {
  for (const Case& c : {
           Case{"bob", "invalid address \"bob\": no '@'"},
           Case{"@example.com", "invalid address \"@example.com\": local part empty"},
           Case{"bob@", "invalid address \"bob@\": domain empty"},
           Case{"a b@example.com",
                "invalid address \"a b@example.com\": local part character ' ' is not allowed"},
           Case{"a@b@example.com",
                "invalid address \"a@b@example.com\": local part character '@' is not allowed"},
           Case{"bob@exa_mple.com",
                "invalid address \"bob@exa_mple.com\": domain character '_' is not allowed"},
       }) {
    auto result = parse_address(c.input);
    ASSERT_FALSE(result.ok()) << c.input;
    EXPECT_EQ(result.error().code, EINVAL);
    EXPECT_EQ(result.error().message, c.expected);
  }
  const std::string long_address = std::string(64, 'a') + "@" + std::string(190, 'b') + ".com";
  auto result = parse_address(long_address);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "invalid address \"" + long_address + "\": longer than 254 characters");
}

TEST(Network, CanonicalCidr) {
  for (const Case& c : {Case{"192.0.2.0/24", "192.0.2.0/24"}, Case{"127.0.0.1", "127.0.0.1/32"},
                        Case{"0.0.0.0/0", "0.0.0.0/0"}, Case{"2001:DB8::/32", "2001:db8::/32"},
                        Case{"::1", "::1/128"}, Case{"2001:0db8:0000::/48", "2001:db8::/48"}}) {
    auto result = normalize_network(c.input);
    ASSERT_TRUE(result.ok()) << c.input << ": " << result.error().message;
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(Network, RefusesWithTheReason) {
  for (const Case& c : {
           Case{"192.0.2.1/24",
                "invalid network \"192.0.2.1/24\": address has bits set beyond the /24 prefix "
                "(did you mean 192.0.2.0/24?)"},
           Case{"10.0.0.0/33", "invalid network \"10.0.0.0/33\": prefix length must be 0 to 32"},
           Case{"10.0.0.0/", "invalid network \"10.0.0.0/\": prefix length must be 0 to 32"},
           Case{"10.0.0.0/8x", "invalid network \"10.0.0.0/8x\": prefix length must be 0 to 32"},
           Case{"2001:db8::/129",
                "invalid network \"2001:db8::/129\": prefix length must be 0 to 128"},
           Case{"10.0.0/8", "invalid network \"10.0.0/8\": not an IPv4 address"},
           Case{"example.com", "invalid network \"example.com\": not an IPv4 address"},
           Case{"2001:db8::g/32", "invalid network \"2001:db8::g/32\": not an IPv6 address"},
       }) {
    auto result = normalize_network(c.input);
    ASSERT_FALSE(result.ok()) << c.input;
    EXPECT_EQ(result.error().code, EINVAL);
    EXPECT_EQ(result.error().message, c.expected);
  }
}

}  // namespace
}  // namespace postcore::store
