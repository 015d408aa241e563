// hash_password makes yescrypt hashes that verify; needs_rehash says when to replace one.
#include "control/auth/password_hash.h"
#include "control/auth/import_hash.h"
#include "control/auth/password_verify.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/auth/password_verify.h"

namespace postcore::auth {
namespace {

TEST(PasswordHashTest, MakesYescryptThatVerifies) {
  Result<std::string> hash = hash_password("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(hash->substr(0, 7), "$y$j9T$");  // libxcrypt's default cost, as mkpasswd writes

  Result<bool> right = verify_password(*hash, "correct horse");
  ASSERT_TRUE(right.ok()) << right.error().message;
  EXPECT_TRUE(*right);
  Result<bool> wrong = verify_password(*hash, "correct horse!");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
}

TEST(PasswordHashTest, SaltsDiffer) {
  Result<std::string> a = hash_password("same");
  Result<std::string> b = hash_password("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordHashTest, CostIsConfigurable) {
  Result<std::string> hash = hash_password("pw", HashOptions{.yescrypt_cost = 3});
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(hash->substr(0, 7), "$y$j7T$");  // what mkpasswd -m yescrypt -R 3 writes
  Result<bool> verdict = verify_password(*hash, "pw");
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(*verdict);
}

TEST(PasswordHashTest, RejectsWhatItCannotHash) {
  EXPECT_FALSE(hash_password("pw", HashOptions{.yescrypt_cost = 12}).ok());
  EXPECT_FALSE(validate_hash_options(HashOptions{.yescrypt_cost = 12}).ok());
  EXPECT_TRUE(validate_hash_options(HashOptions{.yescrypt_cost = 11}).ok());
  EXPECT_FALSE(hash_password(std::string(512, 'a')).ok());
  EXPECT_TRUE(hash_password(std::string(511, 'a')).ok());
  EXPECT_FALSE(hash_password(std::string("a\0b", 3)).ok());
}

TEST(PasswordHashTest, EmptyPasswordHashesAndVerifies) {
  Result<std::string> hash = hash_password("");
  ASSERT_TRUE(hash.ok());
  Result<bool> verdict = verify_password(*hash, "");
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(*verdict);
}

struct RehashCase {
  std::string stored;
  bool rehash;
};

TEST(PasswordHashTest, NeedsRehashTable) {
  const HashPolicy policy;  // yescrypt at the default cost
  const std::vector<RehashCase> cases = {
      // Current: yescrypt at the default cost, however it is wrapped.
      {"$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk4", false},
      {"{CRYPT}$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk4", false},
      {"\x02$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk4", false},
      // yescrypt at another cost.
      {"$y$jBT$y6/xxcO707MSy1Fb1FTz31$OZB4PpyuVv/UMvKVR7LAwX01E9tygU2jy1mEYIcAbJC", true},
      // Every other scheme.
      {"abmizb72ph5go", true},
      {"$1$abc$iCQ2D3nhptRYi27fDYv2s1", true},
      {"$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", true},
      {"$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", true},
      {"$gy$j9T$iNxfUVI9mS9fgVKWOf7Uk1$ZYB.r/cQVcH.Sso3hbYpadVRA82imX7q.D8nmar7SL8", true},
      {"{SSHA}6AokPYRmL7OqCyeLVf88HGXkEHfijTeC", true},
      {"{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", true},
      {"{PLAIN}secret", true},
      // Nothing to rehash from.
      {"*", false},
      {"!$y$j9T$x$y", false},
      {"", false},
      {"{FOO}bar", false},
  };
  for (const RehashCase& c : cases) {
    SCOPED_TRACE(c.stored);
    EXPECT_EQ(needs_rehash(c.stored, policy), c.rehash);
    EXPECT_FALSE(needs_rehash(c.stored, HashPolicy{.rehash_on_login = false}));
  }
}

TEST(PasswordHashTest, NeedsRehashFollowsThePolicyCost) {
  const std::string cost7 =
      "$y$jBT$y6/xxcO707MSy1Fb1FTz31$OZB4PpyuVv/UMvKVR7LAwX01E9tygU2jy1mEYIcAbJC";
  EXPECT_FALSE(needs_rehash(cost7, HashPolicy{.hash = {.yescrypt_cost = 7}}));
  EXPECT_TRUE(needs_rehash(cost7, HashPolicy{.hash = {.yescrypt_cost = 5}}));
  Result<std::string> fresh = hash_password("x", HashOptions{.yescrypt_cost = 4});
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(needs_rehash(*fresh, HashPolicy{.hash = {.yescrypt_cost = 4}}));
  EXPECT_TRUE(needs_rehash(*fresh, HashPolicy{}));
}

}  // namespace
}  // namespace postcore::auth

namespace postcore::auth {
namespace {

TEST(ImportHash, VerifiesIsSaltedAndAsksForRehash) {
  auto a = hash_password_for_import("correct horse");
  auto b = hash_password_for_import("correct horse");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->rfind("{SSHA512}", 0), 0u);
  EXPECT_NE(*a, *b);  // random salt
  EXPECT_TRUE(*verify_password(*a, "correct horse"));
  EXPECT_FALSE(*verify_password(*a, "correct horsf"));
  EXPECT_TRUE(needs_rehash(*a, HashPolicy{}));
  EXPECT_FALSE(hash_password_for_import(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace postcore::auth
