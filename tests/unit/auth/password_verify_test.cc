// verify_password on damaged stored values, locked accounts and odd candidates: which are
// errors (the stored value is unusable) and which are plain mismatches.
#include "control/auth/password_verify.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postcore::auth {
namespace {

// openssl passwd -6 -salt saltsalt secret
const std::string kSha512Crypt =
    "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
    "H91p5hVO1";

struct DamagedCase {
  std::string stored;
  std::string message_part;
};

TEST(PasswordVerifyTest, DamagedStoredValuesAreErrors) {
  const std::vector<DamagedCase> cases = {
      // Digests: bad base64, bad hex, wrong sizes, salt missing.
      {"{SHA}5en6G6Me*RroT3XKqkdPOmY/BfQ=", "{SHA}: stored value is not valid base64 or hex"},
      {"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=====", "not valid"},
      {"{SHA}5en6G6MezRroT3XKqkdPOmY/", "{SHA}: decoded value is 18 bytes, expected a 20-byte"},
      {"{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f",
       "{SHA.HEX}: stored value is not valid hex"},
      {"{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05", "expected a 20-byte digest"},
      {"{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "too short for a 20-byte digest followed by a salt"},
      {"{SSHA512}YWJj", "3 bytes, too short for a 64-byte digest"},
      {"{SMD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "{SMD5}: decoded value is 16 bytes, too short"},
      {"{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQab", "{MD5}: decoded value is 18 bytes"},
      // 31 characters: not hex-sized, so read as base64, whose last character leaves pad
      // bits set.
      {"{MD5}5ebe2294ecd0e0f08eab7690d2a6ee6", "{MD5}: stored value is not valid base64 or hex"},
      // 30: base64 that decodes to 22 bytes.
      {"{MD5}5ebe2294ecd0e0f08eab7690d2a6eg", "{MD5}: decoded value is 22 bytes"},
      {"{PLAIN.HEX}6g", "{PLAIN.HEX}: stored value is not valid hex"},
      {"{PLAIN.B64}====", "{PLAIN.B64}: stored value is not valid base64"},
      // crypt(3) hashes that no password can reproduce.
      {kSha512Crypt.substr(0, kSha512Crypt.size() - 5), "$6$ (SHA512-CRYPT) hash is malformed"},
      {kSha512Crypt + "xyz", "$6$ (SHA512-CRYPT) hash is malformed"},
      {"$6$saltsalt", "$6$ (SHA512-CRYPT) hash is malformed"},
      {"{CRYPT}$1$abc$iCQ2D3nhptRYi27fDYv2s", "{CRYPT} (MD5-CRYPT) hash is malformed"},
      {"$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0",
       "BLF-CRYPT) hash is malformed"},
      {"$2b$5$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a",
       "BLF-CRYPT) hash is malformed"},
      {"$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk",
       "$y$ (YESCRYPT) hash is malformed"},
      {"$y$$$", "$y$ (YESCRYPT) hash is malformed"},
      {"$7$abc", "$7$ (CRYPT) hash is malformed"},
      {"\x02$1$cgpsalt1$SWG3VLzIM.jkQUQPxPzYK", "CommuniGate 0x02 (MD5-CRYPT) hash is malformed"},
  };
  for (const DamagedCase& c : cases) {
    SCOPED_TRACE(c.stored);
    Result<bool> verdict = verify_password(c.stored, "secret");
    ASSERT_FALSE(verdict.ok());
    EXPECT_NE(verdict.error().message.find(c.message_part), std::string::npos)
        << verdict.error().message;
  }
}

TEST(PasswordVerifyTest, LockedAccountsNeverMatch) {
  const std::vector<std::string> locked = {"*", "!", "!!", "*LK*", "!" + kSha512Crypt};
  for (const std::string& stored : locked) {
    SCOPED_TRACE(stored);
    for (const char* candidate : {"", "secret", "*", "!"}) {
      Result<bool> verdict = verify_password(stored, candidate);
      ASSERT_TRUE(verdict.ok()) << verdict.error().message;
      EXPECT_FALSE(*verdict);
    }
  }
}

TEST(PasswordVerifyTest, CandidateWithNulNeverMatches) {
  // Each stored value matches "secret"; a NUL after it must not be cut off and ignored.
  const std::string with_nul("secret\0tail", 11);
  const std::vector<std::string> stored_values = {
      kSha512Crypt, "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "{PLAIN}secret"};
  for (const std::string& stored : stored_values) {
    SCOPED_TRACE(stored);
    Result<bool> right = verify_password(stored, "secret");
    ASSERT_TRUE(right.ok());
    EXPECT_TRUE(*right);
    Result<bool> verdict = verify_password(stored, with_nul);
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    EXPECT_FALSE(*verdict);
  }
}

TEST(PasswordVerifyTest, OverlongCandidateIsAMismatchNotAnError) {
  Result<bool> verdict = verify_password(kSha512Crypt, std::string(4096, 'a'));
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  EXPECT_FALSE(*verdict);
  // Digest schemes have no length limit.
  Result<bool> digest =
      verify_password("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", std::string(4096, 'a'));
  ASSERT_TRUE(digest.ok());
  EXPECT_FALSE(*digest);
}

TEST(PasswordVerifyTest, PlainComparesWholeStrings) {
  for (const char* candidate : {"", "secre", "secret ", "Secret", "secretsecret"}) {
    Result<bool> verdict = verify_password("{PLAIN}secret", candidate);
    ASSERT_TRUE(verdict.ok());
    EXPECT_FALSE(*verdict) << candidate;
  }
}

TEST(PasswordVerifyTest, DesUsesOnlyTheFirstEightCharacters) {
  // mkpasswd -m descrypt -S ab 'longpass' and mkpasswd -m descrypt -S ab 'longpassword' both
  // print this: DES crypt ignores everything past 8 characters. That is the scheme's own
  // behaviour, kept for imported hashes (and one more reason to rehash them).
  for (const char* candidate : {"longpass", "longpassword"}) {
    Result<bool> verdict = verify_password("abD6HAB6eqg.k", candidate);
    ASSERT_TRUE(verdict.ok());
    EXPECT_TRUE(*verdict) << candidate;
  }
  Result<bool> shorter = verify_password("abD6HAB6eqg.k", "longpas");
  ASSERT_TRUE(shorter.ok());
  EXPECT_FALSE(*shorter);
}

}  // namespace
}  // namespace postcore::auth
