// Hand-derived expectations (RFC 3501 sections 6.4.5 and 7.4.2, RFC 2045-2047, 2231) for
// small messages, and the limits and malformed input the parser must survive.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "dataplane/mime/encoded_words.h"
#include "dataplane/mime/header_fields.h"
#include "dataplane/mime/imap_render.h"
#include "dataplane/mime/parser.h"

namespace postcore::mime {
namespace {

struct RenderCase {
  const char* name;
  std::string_view message;
  std::string_view bodystructure;
  std::string_view envelope;
};

const RenderCase kRenderCases[] = {
    {"plain text, defaults", "From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL))",
     R"((NIL "x" ((NIL NIL "a" "example.org")) ((NIL NIL "a" "example.org")))"
     R"( ((NIL NIL "a" "example.org")) NIL NIL NIL NIL NIL))"},
    {"quoted specials escaped, 8-bit as a literal",
     "Subject: say \"hi\" \\ bye\r\nTo: M\xc3\xbcller <m@example.de>\r\n\r\n",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     "(NIL \"say \\\"hi\\\" \\\\ bye\" NIL NIL NIL (({7}\r\nM\xc3\xbcller NIL \"m\" "
     "\"example.de\")) "
     "NIL NIL NIL NIL)"},
    {"sender and reply-to default to from, empty ones too",
     "From: \"A, B\" <ab@example.org>\r\nSender:\r\nReply-To: r@example.org\r\n\r\n",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     R"((NIL NIL (("A, B" NIL "ab" "example.org")) (("A, B" NIL "ab" "example.org")))"
     R"( ((NIL NIL "r" "example.org")) NIL NIL NIL NIL NIL))"},
    {"groups", "To: undisclosed-recipients:;\r\nCc: g: a@x.example, b@y.example;\r\n\r\n",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     R"((NIL NIL NIL NIL NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)))"
     R"( ((NIL NIL "g" NIL)(NIL NIL "a" "x.example")(NIL NIL "b" "y.example")(NIL NIL NIL NIL)))"
     R"( NIL NIL NIL))"},
    {"two parts, line break before a boundary belongs to it",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
     "one\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\n",
     R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 0 NIL NIL NIL NIL))"
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL))"
     R"( "mixed" ("boundary" "b") NIL NIL NIL))",
     "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"},
    {"message/rfc822 with its envelope, body and lines",
     "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: i@example.org\r\n\r\nbody\r\n",
     R"(("message" "rfc822" NIL NIL NIL "7bit" 45 (NIL "inner" ((NIL NIL "i" "example.org")))"
     R"( ((NIL NIL "i" "example.org")) ((NIL NIL "i" "example.org")) NIL NIL NIL NIL NIL))"
     R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL) 4)"
     R"( NIL NIL NIL NIL))",
     "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"},
    {"extension fields",
     "Content-Type: image/png; name=\"a.png\"\r\nContent-Transfer-Encoding: base64\r\n"
     "Content-ID: <c@x>\r\nContent-Description: pic\r\nContent-MD5: abc=\r\n"
     "Content-Disposition: attachment; filename=a.png\r\nContent-Language: en\r\n"
     "Content-Location: a.png\r\n\r\nAAAA\r\n",
     R"(("image" "png" ("name" "a.png") "<c@x>" "pic" "base64" 6 "abc=")"
     R"( ("attachment" ("filename" "a.png")) "en" "a.png"))",
     "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"},
    {"RFC 2231 continuations joined, extended value kept raw",
     "Content-Type: application/x-y; a*0=\"he\"; a*1=llo; b*0*=utf-8''%C3%A4; b*1=\" x\"\r\n\r\n",
     R"(("application" "x-y" ("a" "hello" "b*" "utf-8''%C3%A4%20x") NIL NIL "7bit" 0)"
     R"( NIL NIL NIL NIL))",
     "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"},
};

TEST(MimeRender, HandDerivedCases) {
  for (const RenderCase& c : kRenderCases) {
    SCOPED_TRACE(c.name);
    const ParsedMessage parsed = parse_message(c.message);
    EXPECT_EQ(imap_bodystructure(parsed.root, true), c.bodystructure);
    EXPECT_EQ(imap_envelope(parsed.root), c.envelope);
  }
}

TEST(MimeRender, BodyIsBodystructureWithoutExtensions) {
  const ParsedMessage parsed = parse_message(kRenderCases[4].message);
  EXPECT_EQ(imap_bodystructure(parsed.root, false),
            R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 0))"
            R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1) "mixed"))");
}

std::optional<std::string_view> section(std::string_view message, const ParsedMessage& parsed,
                                        std::string_view spec, SectionText what) {
  const auto range = section_range(parsed.root, spec, what);
  if (!range) return std::nullopt;
  return message.substr(range->begin, range->end - range->begin);
}

TEST(MimeSections, RangesFollowRfc3501) {
  constexpr std::string_view kMessage =
      "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
      "--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n"
      "--c\r\n\r\nalt one\r\n--c\r\n\r\nalt two\r\n--c--\r\n"
      "--b--\r\nepilogue\r\n";
  const ParsedMessage parsed = parse_message(kMessage);
  using enum SectionText;
  EXPECT_EQ(section(kMessage, parsed, "", header),
            "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
  EXPECT_EQ(section(kMessage, parsed, "", body), kMessage);
  EXPECT_EQ(section(kMessage, parsed, "", text), kMessage.substr(kMessage.find("preamble")));
  EXPECT_EQ(section(kMessage, parsed, "1", body), "one");
  EXPECT_EQ(section(kMessage, parsed, "1", mime), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(section(kMessage, parsed, "1", header), std::nullopt);
  EXPECT_EQ(section(kMessage, parsed, "2", body), "Subject: inner\r\n\r\ninner body");
  EXPECT_EQ(section(kMessage, parsed, "2", mime), "Content-Type: message/rfc822\r\n\r\n");
  EXPECT_EQ(section(kMessage, parsed, "2", header), "Subject: inner\r\n\r\n");
  EXPECT_EQ(section(kMessage, parsed, "2", text), "inner body");
  EXPECT_EQ(section(kMessage, parsed, "2.1", body), "inner body");
  EXPECT_EQ(section(kMessage, parsed, "2.2", body), std::nullopt);
  // The closing boundary's line break stays with the multipart it closes (as Dovecot).
  EXPECT_EQ(section(kMessage, parsed, "3", body),
            "--c\r\n\r\nalt one\r\n--c\r\n\r\nalt two\r\n--c--\r\n");
  EXPECT_EQ(section(kMessage, parsed, "3.1", body), "alt one");
  EXPECT_EQ(section(kMessage, parsed, "3.2", body), "alt two");
  EXPECT_EQ(section(kMessage, parsed, "3.2", mime), "\r\n");
  EXPECT_EQ(section(kMessage, parsed, "4", body), std::nullopt);
  EXPECT_EQ(section(kMessage, parsed, "0", body), std::nullopt);
  EXPECT_EQ(section(kMessage, parsed, "1.x", body), std::nullopt);
  EXPECT_EQ(parsed.faults, fault_none);
}

TEST(MimeSections, SinglePartMessageHasPartOne) {
  constexpr std::string_view kMessage = "Subject: s\n\nline\n";
  const ParsedMessage parsed = parse_message(kMessage);
  EXPECT_EQ(section(kMessage, parsed, "1", SectionText::body), "line\n");
  EXPECT_EQ(section(kMessage, parsed, "2", SectionText::body), std::nullopt);
  // Bare LF: offsets are raw, the size is as served with CRLF.
  EXPECT_EQ(parsed.root.body_octets(), 5u);
  EXPECT_EQ(parsed.root.body_crlf_octets(), 6u);
}

std::string nested(size_t depth) {
  std::string message;
  for (size_t i = 0; i < depth; ++i) {
    message += "Content-Type: multipart/mixed; boundary=\"n" + std::to_string(i) + "\"\r\n\r\n--n" +
               std::to_string(i) + "\r\n";
  }
  message += "\r\nleaf\r\n";
  for (size_t i = depth; i-- > 0;) message += "--n" + std::to_string(i) + "--\r\n";
  return message;
}

size_t tree_depth(const Part& part) {
  size_t deepest = 0;
  for (const Part& child : part.children) deepest = std::max(deepest, tree_depth(child));
  return deepest + 1;
}

TEST(MimeLimits, NestingStopsAtMaxDepth) {
  const ParsedMessage deep = parse_message(nested(150));
  EXPECT_EQ(tree_depth(deep.root), 100u);
  EXPECT_TRUE(deep.faults & fault_nesting_limit);

  ParserLimits limits;
  limits.max_depth = 3;
  const ParsedMessage shallow = parse_message(nested(10), limits);
  EXPECT_EQ(tree_depth(shallow.root), 3u);

  const ParsedMessage fits = parse_message(nested(99));
  EXPECT_EQ(tree_depth(fits.root), 100u);  // 99 multiparts and the leaf
  EXPECT_EQ(fits.faults, fault_none);
}

TEST(MimeLimits, MessageKeptAsLeafStillHasEnvelopeAndBody) {
  ParserLimits limits;
  limits.max_depth = 1;
  const ParsedMessage parsed =
      parse_message("Content-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nx\r\n", limits);
  EXPECT_TRUE(parsed.faults & fault_nesting_limit);
  EXPECT_EQ(imap_bodystructure(parsed.root, false),
            R"(("message" "rfc822" NIL NIL NIL "7bit" 17 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"
            R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 3))");
}

TEST(MimeLimits, RepeatedAddressFieldsAddUpToMaxAddresses) {
  std::string message;
  for (int i = 0; i < 30; ++i) message += "To: a" + std::to_string(i) + "@x, b@y\r\n";
  ParserLimits limits;
  limits.max_addresses = 25;
  const ParsedMessage parsed = parse_message(message + "\r\n", limits);
  EXPECT_EQ(parsed.root.envelope->to->size(), 25u);
  EXPECT_TRUE(parsed.faults & fault_header_truncated);
  EXPECT_EQ(parse_message(message + "\r\n").root.envelope->to->size(), 60u);
}

TEST(MimeLimits, PartsStopAtMaxParts) {
  std::string message = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 50; ++i) message += "--p\r\n\r\npart\r\n";
  message += "--p--\r\n";
  ParserLimits limits;
  limits.max_parts = 10;
  const ParsedMessage parsed = parse_message(message, limits);
  EXPECT_EQ(parsed.root.children.size(), 9u);  // and the root makes 10
  EXPECT_TRUE(parsed.faults & fault_part_limit);
  EXPECT_EQ(parse_message(message).root.children.size(), 50u);
}

TEST(MimeLimits, MegabyteHeaderLinesAreReadNotKept) {
  const std::string long_subject(1 << 20, 's');
  const std::string message = "X-Long: " + long_subject + "\r\nSubject: " + long_subject +
                              "\r\nFrom: a@example.org\r\n\r\nbody\r\n";
  const ParsedMessage parsed = parse_message(message);
  ASSERT_TRUE(parsed.root.envelope->subject);
  // The limit counts the value from the colon on; the space after it is trimmed.
  EXPECT_EQ(parsed.root.envelope->subject->size(), ParserLimits{}.max_field_bytes - 1);
  EXPECT_TRUE(parsed.faults & fault_header_truncated);
  EXPECT_EQ(parsed.root.envelope->from->front().mailbox, "a");
  EXPECT_EQ(parsed.root.body_octets(), 6u);
}

TEST(MimeLimits, BodyOctetsAreNeverHeld) {
  // 50 MB in one line and in many, inside a multipart whose boundary must still be seen.
  MimeParser parser;
  parser.feed("Content-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\n\r\n");
  const std::string chunk(64 << 10, 'A');
  size_t most_held = 0;
  for (int i = 0; i < 800; ++i) {
    parser.feed(chunk);
    if (i % 2 == 0) parser.feed("\r\n");
    most_held = std::max(most_held, parser.held_octets());
  }
  parser.feed("\r\n--big--\r\n");
  const ParsedMessage parsed = parser.finish();
  EXPECT_LT(most_held, 64u);
  ASSERT_EQ(parsed.root.children.size(), 1u);
  EXPECT_EQ(parsed.root.children[0].body_octets(), 800u * chunk.size() + 400 * 2);
  EXPECT_EQ(parsed.faults, fault_none);
}

struct MalformedCase {
  const char* name;
  std::string_view message;
  std::string_view body;  // BODY (no extension data)
};

const MalformedCase kMalformed[] = {
    {"empty message", "", R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))"},
    {"header only, no empty line", "Subject: x\r\n",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))"},
    {"body only", "\r\nbody\r\n", R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1))"},
    {"NUL and 8-bit in a header", std::string_view("Content-Description: a\0\xff\r\n\r\n", 28),
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL {5}\r\na\xef\xbf\xbd\xff \"7bit\" 0 0)"},
    {"boundary parameter empty", "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
     R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed"))"},
    {"garbage content type", "Content-Type: ;;;\r\n\r\nx",
     R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0))"},
    {"boundary inside a part's header ends the part",
     "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/html\r\n--q--\r\n",
     R"((("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed"))"},
    {"unterminated quoted parameter", "Content-Type: text/plain; charset=\"utf-8\r\n\r\nx\r\n",
     R"(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 3 1))"},
};

TEST(MimeMalformed, GivesSensibleTrees) {
  for (const MalformedCase& c : kMalformed) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(imap_bodystructure(parse_message(c.message).root, false), c.body);
  }
}

TEST(MimeMalformed, FaultsSayWhatWasCutShort) {
  EXPECT_TRUE(parse_message("Content-Type: multipart/mixed\r\n\r\nx").faults &
              fault_missing_boundary);
  EXPECT_TRUE(
      parse_message("Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\r\nx").faults &
      fault_unterminated);
}

TEST(MimeMalformed, PathologicalFieldsStayLinear) {
  // Each of these is quadratic in a naive reader; here they only have to finish.
  std::string message = "To: ";
  for (int i = 0; i < 4000; ++i) message += "a" + std::to_string(i) + "@x, ";
  message += "\r\nSubject: ";
  for (int i = 0; i < 8000; ++i) message += "=?utf-8?q?a";
  message += "\r\nContent-Type: text/plain; " + std::string(20000, ';') + std::string(20000, '(');
  message += "\r\nCc: " + std::string(30000, '"') + "\r\n\r\n";
  const ParsedMessage parsed = parse_message(message);
  EXPECT_EQ(parsed.root.envelope->to->size(), 4000u);
  EXPECT_EQ(decode_encoded_words(*parsed.root.envelope->subject), *parsed.root.envelope->subject);
}

TEST(MimeAddresses, ObsoleteAndBrokenForms) {
  const AddressList list = parse_address_list(
      "<@a.example,@b.example:r@c.example>, x@y.example (Com ment), \"Q\\\"N\" <q@z>, "
      "bad@, @nolocal, John Q. Public <j@p>");
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0].route, "@a.example,@b.example");
  EXPECT_EQ(list[0].mailbox, "r");
  EXPECT_EQ(list[1].name, "Com ment");
  EXPECT_EQ(list[2].name, "Q\"N");
  EXPECT_EQ(list[3].host, "MISSING_DOMAIN");
  EXPECT_EQ(list[4].mailbox, "MISSING_MAILBOX");
  EXPECT_EQ(list[4].host, "nolocal");
  EXPECT_EQ(list[5].name, "John Q. Public");
}

TEST(MimeEncodedWords, Rfc2047) {
  struct Case {
    std::string_view in, out;
  } cases[] = {
      {"=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard"},
      {"=?utf-8?B?0JjQstCw0L0=?=", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd"},
      {"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"},
      // RFC 2047 section 8's examples of white space between words.
      {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=\t  =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
      // A UTF-8 character split across two words.
      {"=?utf-8?B?ww==?= =?utf-8?B?pA==?=", "\xc3\xa4"},
      {"=?utf-8?Q?=C3?= =?UTF-8?Q?=A4?=", "\xc3\xa4"},
      {"=?iso-8859-15?Q?=A4?=", "\xe2\x82\xac"},
      {"=?windows-1252?Q?=80=96?=", "\xe2\x82\xac\xe2\x80\x93"},
      {"=?utf-8*en?Q?hi?=", "hi"},
      {"=?koi8-r?B?7/Q=?= x", "=?koi8-r?B?7/Q=?= x"},
      {"=?utf-8?X?abc?=", "=?utf-8?X?abc?="},
      {"=?utf-8?Q?not closed", "=?utf-8?Q?not closed"},
      {"a =?utf-8?Q?b?= c", "a b c"},
      {"=?utf-8?Q?=ZZ?=", "=ZZ"},
  };
  for (const Case& c : cases) EXPECT_EQ(decode_encoded_words(c.in), c.out) << c.in;
}

TEST(MimeEncodedWords, Rfc2231Values) {
  EXPECT_EQ(decode_rfc2231_value("utf-8''n%C3%A4me%20with%20spaces.bin"),
            "n\xc3\xa4me with spaces.bin");
  EXPECT_EQ(decode_rfc2231_value("iso-8859-1'de'Gr%FC%DFe.txt"),
            "Gr\xc3\xbc\xc3\x9f"
            "e.txt");
  EXPECT_EQ(decode_rfc2231_value("''%41"), "A");
  EXPECT_EQ(decode_rfc2231_value("x-unknown''%41"), "x-unknown''%41");
}

}  // namespace
}  // namespace postcore::mime
