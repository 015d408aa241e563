// Table tests of RFC 5321 path parsing and of the UTF-8 check it relies on.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/smtp/address.h"
#include "dataplane/smtp/utf8.h"

namespace postcore::smtp {
namespace {

struct PathCase {
  std::string input;
  PathError error;
  std::string mailbox;  // when error is none
  size_t length = 0;    // octets consumed, when error is none
  bool null = false;
  bool non_ascii = false;
  bool postmaster = false;
};

std::string repeat(char c, size_t n) {
  return std::string(n, c);
}

const PathCase kPathCases[] = {
    {"<a@example.org>", PathError::none, "a@example.org", 15},
    {"<a@example.org> SIZE=1", PathError::none, "a@example.org", 15},
    {"<>", PathError::none, "", 2, true},
    {"<> BODY=8BITMIME", PathError::none, "", 2, true},
    {"<first.last+tag@sub.example.org>", PathError::none, "first.last+tag@sub.example.org", 32},
    {"<!#$%&'*+-/=?^_`{|}~@example.org>", PathError::none, "!#$%&'*+-/=?^_`{|}~@example.org", 33},
    {"<\"a b\"@example.org>", PathError::none, "\"a b\"@example.org", 19},
    {"<\"a\\\"b\"@example.org>", PathError::none, "\"a\\\"b\"@example.org", 20},
    {"<\"\"@example.org>", PathError::none, "\"\"@example.org", 16},
    {"<\"a\\\x01\"@example.org>", PathError::syntax, ""},
    {"<\"a\"b@example.org>", PathError::syntax, ""},
    {"<\"unterminated@example.org>", PathError::syntax, ""},
    {"<@relay.example:a@example.org>", PathError::none, "a@example.org", 30},
    {"<@r1.example,@r2.example:a@example.org>", PathError::none, "a@example.org", 39},
    {"<@r1.example,r2.example:a@example.org>", PathError::syntax, ""},
    {"<@r1.example a@example.org>", PathError::syntax, ""},
    {"<@[192.0.2.1]:a@example.org>", PathError::syntax, ""},
    {"<a@[192.0.2.1]>", PathError::none, "a@[192.0.2.1]", 15},
    {"<a@[192.0.2.256]>", PathError::syntax, ""},
    {"<a@[192.0.2]>", PathError::syntax, ""},
    {"<a@[IPv6:::1]>", PathError::none, "a@[IPv6:::1]", 14},
    {"<a@[ipv6:2001:db8::192.0.2.1]>", PathError::none, "a@[ipv6:2001:db8::192.0.2.1]", 30},
    {"<a@[IPv6:2001:db8:::1]>", PathError::syntax, ""},
    {"<a@[tag:x]>", PathError::none, "a@[tag:x]", 11},
    {"<a@[tag:]>", PathError::syntax, ""},
    {"<a@[-tag:x]>", PathError::syntax, ""},
    {"<a@[1.2.3.4>", PathError::syntax, ""},
    {"<a@1.2.3.4>", PathError::none, "a@1.2.3.4", 11},
    {"<a@xn--bcher-kva.example>", PathError::none, "a@xn--bcher-kva.example", 25},
    {"<Postmaster>", PathError::none, "Postmaster", 12, false, false, true},
    {"<POSTMASTER>", PathError::none, "POSTMASTER", 12, false, false, true},
    {"<postmistress>", PathError::syntax, ""},
    {"<a>", PathError::syntax, ""},
    {"a@example.org", PathError::syntax, ""},
    {"<a@example.org", PathError::syntax, ""},
    {"", PathError::syntax, ""},
    {"<", PathError::syntax, ""},
    {"<@>", PathError::syntax, ""},
    {"<a@>", PathError::syntax, ""},
    {"<@example.org>", PathError::syntax, ""},
    {"<a..b@example.org>", PathError::syntax, ""},
    {"<a@example..org>", PathError::syntax, ""},
    {"<a@-example.org>", PathError::syntax, ""},
    {"<a@example-.org>", PathError::syntax, ""},
    {"<a@ex-ample.org>", PathError::none, "a@ex-ample.org", 16},
    {"<a@example.org.>", PathError::syntax, ""},
    {"<a@exa_mple.org>", PathError::syntax, ""},
    {"<a b@example.org>", PathError::syntax, ""},
    {"<a(b)@example.org>", PathError::syntax, ""},
    {"<a@b@example.org>", PathError::syntax, ""},
    {"<j\xC3\xB6rg@example.org>", PathError::none, "j\xC3\xB6rg@example.org", 19, false, true},
    {"<a@b\xC3\xBC"
     "cher.example>",
     PathError::none,
     "a@b\xC3\xBC"
     "cher.example",
     19, false, true},
    {"<\"\xC3\xB6 x\"@example.org>", PathError::none, "\"\xC3\xB6 x\"@example.org", 20, false,
     true},
    {"<j\xC3rg@example.org>", PathError::syntax, ""},
    {"<j\xB6rg@example.org>", PathError::syntax, ""},
    {"<\xED\xA0\x80@example.org>", PathError::syntax, ""},  // a UTF-16 surrogate
    {"<" + repeat('l', 64) + "@x.org>", PathError::none, repeat('l', 64) + "@x.org", 72},
    {"<" + repeat('l', 65) + "@x.org>", PathError::local_part_too_long, ""},
    {"<\"" + repeat('l', 63) + "\"@x.org>", PathError::local_part_too_long, ""},
    {"<a@" + repeat('d', 63) + ".org>", PathError::none, "a@" + repeat('d', 63) + ".org", 71},
    {"<a@" + repeat('d', 64) + ".org>", PathError::syntax, ""},
    {"<a@" + repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 63) + "." +
         repeat('d', 63) + ".x>",
     PathError::domain_too_long, ""},
    {"<a@" + repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 63) + "." +
         repeat('d', 60) + ">",
     PathError::none,
     "a@" + repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 60),
     256},
    {"<ab@" + repeat('d', 63) + "." + repeat('d', 63) + "." + repeat('d', 63) + "." +
         repeat('d', 60) + ">",
     PathError::path_too_long, ""},
    {"<@" + repeat('r', 63) + "." + repeat('r', 63) + "," + "@" + repeat('r', 63) + "." +
         repeat('r', 63) + ":a@x.org>",
     PathError::path_too_long, ""},
};

class PathTable : public ::testing::TestWithParam<PathCase> {};

TEST_P(PathTable, Parses) {
  const PathCase& c = GetParam();
  Path path;
  const PathError error = parse_path(c.input, &path);
  ASSERT_EQ(static_cast<int>(error), static_cast<int>(c.error)) << c.input;
  if (error != PathError::none) return;
  EXPECT_EQ(path.mailbox, c.mailbox);
  EXPECT_EQ(path.length, c.length);
  EXPECT_EQ(path.null, c.null);
  EXPECT_EQ(path.non_ascii, c.non_ascii);
  EXPECT_EQ(path.postmaster, c.postmaster);
}

INSTANTIATE_TEST_SUITE_P(Paths, PathTable, ::testing::ValuesIn(kPathCases));

struct Utf8Case {
  std::string text;
  size_t length;
};

const Utf8Case kUtf8Cases[] = {
    {"\xC3\xB6", 2},
    {"\xC3\xB6x", 2},
    {"\xC3", 0},
    {"\xC3x", 0},
    {"\xC0\xAF", 0},
    {"\xC1\xBF", 0},
    {"\xE2\x82\xAC", 3},
    {"\xE0\x80\xAF", 0},
    {"\xE0\xA0\x80", 3},
    {"\xED\x9F\xBF", 3},
    {"\xED\xA0\x80", 0},
    {"\xF0\x9F\x98\x80", 4},
    {"\xF0\x8F\xBF\xBF", 0},
    {"\xF4\x8F\xBF\xBF", 4},
    {"\xF4\x90\x80\x80", 0},
    {"\xF5\x80\x80\x80", 0},
    {"\x80", 0},
    {"\xFF", 0},
    {"\xE2\x82", 0},
    {"\xF0\x9F\x98", 0},
    {"\xE2\x28\xA1", 0},
};

class Utf8Table : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(Utf8Table, SequenceLength) {
  EXPECT_EQ(utf8_sequence_length(GetParam().text), GetParam().length);
}

INSTANTIATE_TEST_SUITE_P(Sequences, Utf8Table, ::testing::ValuesIn(kUtf8Cases));

}  // namespace
}  // namespace postcore::smtp
