// Recognition of stored password forms, and what happens to strings that are none.
#include "control/auth/password_scheme.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/auth/password_verify.h"

namespace postcore::auth {
namespace {

struct FormCase {
  std::string stored;
  PasswordScheme scheme;
  PayloadEncoding encoding;
  std::string payload;
};

TEST(PasswordSchemeTest, RecognisesForms) {
  using S = PasswordScheme;
  using E = PayloadEncoding;
  const std::vector<FormCase> cases = {
      {"abmizb72ph5go", S::kDesCrypt, E::kCrypt, "abmizb72ph5go"},
      {"$1$abc$iCQ2D3nhptRYi27fDYv2s1", S::kMd5Crypt, E::kCrypt, "$1$abc$iCQ2D3nhptRYi27fDYv2s1"},
      {"{CRYPT}$5$a$b", S::kSha256Crypt, E::kCrypt, "$5$a$b"},
      {"{cRyPt}$y$j9T$a$b", S::kYescrypt, E::kCrypt, "$y$j9T$a$b"},
      {"$2b$05$x", S::kBcrypt, E::kCrypt, "$2b$05$x"},
      {"$2x$05$x", S::kOtherCrypt, E::kCrypt, "$2x$05$x"},
      {"{SHA}abc", S::kSha1, E::kBase64OrHex, "abc"},
      {"{sha1.hex}00", S::kSha1, E::kHex, "00"},
      {"{SSHA.b64}abcd", S::kSaltedSha1, E::kBase64, "abcd"},
      {"{SSHA.BASE64}abcd", S::kSaltedSha1, E::kBase64, "abcd"},
      {"{md5}$1$salt$hash", S::kMd5Crypt, E::kCrypt, "$1$salt$hash"},
      {"{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", S::kMd5, E::kBase64OrHex, "Xr4ilOzQ4PCOq3aQ0qbuaQ=="},
      {"{MD5.HEX}5ebe2294ecd0e0f08eab7690d2a6ee69", S::kMd5, E::kHex,
       "5ebe2294ecd0e0f08eab7690d2a6ee69"},
      {"{Cleartext}pass word", S::kPlain, E::kRaw, "pass word"},
      {"{PLAIN}{SHA}x", S::kPlain, E::kRaw, "{SHA}x"},
      {"\x02$6$s$h", S::kSha512Crypt, E::kCrypt, "$6$s$h"},
      {"*", S::kLocked, E::kRaw, "*"},
      {"!$6$s$h", S::kLocked, E::kRaw, "!$6$s$h"},
      {"!!", S::kLocked, E::kRaw, "!!"},
  };
  for (const FormCase& c : cases) {
    SCOPED_TRACE(c.stored);
    Result<StoredPassword> parsed = parse_stored_password(c.stored);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(scheme_name(parsed->scheme), scheme_name(c.scheme));
    EXPECT_EQ(parsed->encoding, c.encoding);
    EXPECT_EQ(parsed->payload, c.payload);
  }
}

struct RejectCase {
  std::string stored;
  std::string message_part;  // the error must say this, so the operator knows what is wrong
};

TEST(PasswordSchemeTest, RejectsUnusableStrings) {
  const std::vector<RejectCase> cases = {
      {"", "empty"},
      {"{SHA", "no closing '}'"},
      {"{FOO}bar", "unknown password scheme {FOO}"},
      {"{}x", "unknown password scheme {}"},
      {"{SSHA.ROT13}abcd", "unknown encoding suffix"},
      {"{CRYPT.HEX}00", "take no encoding suffix"},
      {"{CRYPT}", "{CRYPT}: empty crypt(3) hash"},
      {"{CRYPT}secret", "{CRYPT}: not a recognised password form"},
      {"{SHA}", "{SHA}: nothing after the scheme name"},
      {"{PLAIN}", "{PLAIN}: nothing after the scheme name"},
      {"secret", "not a recognised password form"},
      {"hello world!!", "not a DES crypt hash"},
      {"$zz$abc$def", "unknown or unsupported crypt(3) method \"$zz$\""},
      {"$6$a:b$c", "$6$ (SHA512-CRYPT) hash is malformed"},
      {"\x01"
       "abcdef",
       "not a recognised password form"},
      {"\x02", "CommuniGate 0x02: empty crypt(3) hash"},
      {"\x02plaintext", "CommuniGate 0x02: not a recognised password form"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.stored);
    Result<StoredPassword> parsed = parse_stored_password(c.stored);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << parsed.error().message;
    // verify_password reports the same problem instead of calling it a wrong password.
    Result<bool> verdict = verify_password(c.stored, "secret");
    ASSERT_FALSE(verdict.ok());
    EXPECT_EQ(verdict.error().message, parsed.error().message);
  }
}

TEST(PasswordSchemeTest, MessagesNeverQuoteTheStoredHash) {
  Result<StoredPassword> parsed = parse_stored_password("$nohash-with-secret-bits");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message.find("secret-bits"), std::string::npos)
      << parsed.error().message;
}

TEST(PasswordSchemeTest, DigestSizes) {
  EXPECT_EQ(digest_size(PasswordScheme::kSaltedSha1), 20u);
  EXPECT_EQ(digest_size(PasswordScheme::kSha256), 32u);
  EXPECT_EQ(digest_size(PasswordScheme::kSaltedSha512), 64u);
  EXPECT_EQ(digest_size(PasswordScheme::kSaltedMd5), 16u);
  EXPECT_EQ(digest_size(PasswordScheme::kYescrypt), 0u);
}

}  // namespace
}  // namespace postcore::auth
