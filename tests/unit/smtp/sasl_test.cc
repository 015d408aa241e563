// Tests of the AUTH helpers: base64 against the RFC 4648 section 10 vectors, the PLAIN
// message, and wiping pending input without touching what is still to be read.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "common/base64.h"
#include "dataplane/smtp/pending_input.h"
#include "dataplane/smtp/sasl.h"

namespace postcore::smtp {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
  };
  std::string out = "old";
  for (const auto& [text, decoded] : vectors) {
    EXPECT_TRUE(decode_base64(text, out, Base64Padding::required)) << text;
    EXPECT_EQ(out, decoded) << text;
  }
}

// What mail senders write is read leniently: line breaks and stray octets skipped, the
// first '=' ends it, a missing pad is no error.
TEST(Base64, LenientDecodingForMail) {
  EXPECT_EQ(decode_base64_lenient("Zm9v\r\nYmFy"), "foobar");
  EXPECT_EQ(decode_base64_lenient("Zm9vYg"), "foob");
  EXPECT_EQ(decode_base64_lenient("Zm9vYg==Zm9v"), "foob");
  EXPECT_EQ(decode_base64_lenient("Z!m9v"), "foo");
  EXPECT_EQ(decode_base64_lenient(""), "");
}

TEST(Base64, Refused) {
  for (const std::string text : {"Zg", "Zg=", "Zg===", "====", "Zm9v=", "Zg==Zg==", "Zm 9",
                                 "Zm9v\r\n", "Zh==", "Zm9=", "Zm-v", "Zm_v"}) {
    std::string out;
    EXPECT_FALSE(decode_base64(text, out, Base64Padding::required)) << text;
  }
  std::string out;
  EXPECT_TRUE(
      decode_base64("+/+/", out, Base64Padding::required));  // the last two letters of the alphabet
  EXPECT_EQ(out, "\xFB\xFF\xBF");
}

TEST(Plain, Fields) {
  PlainCredentials credentials;  // views into the message
  const std::string message("admin\0alice\0secret", 18);
  ASSERT_TRUE(parse_plain(message, &credentials));
  EXPECT_EQ(credentials.authzid, "admin");
  EXPECT_EQ(credentials.authcid, "alice");
  EXPECT_EQ(credentials.password, "secret");
  const std::string no_authzid("\0alice\0secret", 13);
  ASSERT_TRUE(parse_plain(no_authzid, &credentials));
  EXPECT_EQ(credentials.authzid, "");
  EXPECT_EQ(credentials.authcid, "alice");
  EXPECT_FALSE(parse_plain(std::string("alice\0secret", 12), &credentials));
  EXPECT_FALSE(parse_plain(std::string("\0alice\0sec\0ret", 14), &credentials));
  EXPECT_FALSE(parse_plain(std::string("\0\0secret", 8), &credentials));
  EXPECT_FALSE(parse_plain(std::string("\0alice\0", 7), &credentials));
}

TEST(Plain, FieldContents) {
  EXPECT_TRUE(valid_sasl_field(std::string(255, 'u')));
  EXPECT_FALSE(valid_sasl_field(std::string(256, 'u')));
  EXPECT_FALSE(valid_sasl_field(""));
  EXPECT_TRUE(valid_sasl_field("j\xC3\xB6rg\t"));
  EXPECT_FALSE(valid_sasl_field("a\rb"));
  EXPECT_FALSE(valid_sasl_field("a\nb"));
  EXPECT_FALSE(valid_sasl_field("\xC3("));
}

TEST(PendingInput, WipeSpentKeepsWhatIsStillToBeRead) {
  PendingInput pending;
  pending.append("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nNOOP\r\n");
  pending.consume(33);
  pending.wipe_spent();
  EXPECT_EQ(pending.view(), "NOOP\r\n");
  pending.append("QUIT\r\n");
  EXPECT_EQ(pending.view(), "NOOP\r\nQUIT\r\n");
}

}  // namespace
}  // namespace postcore::smtp
