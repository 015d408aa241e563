// verify_for_login: the verdict plus, on a match in an old scheme, the hash to store.
#include "control/auth/login_verification.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "control/auth/password_verify.h"

namespace postcore::auth {
namespace {

// openssl passwd -1 -salt abc secret
constexpr const char* kMd5Crypt = "$1$abc$iCQ2D3nhptRYi27fDYv2s1";

TEST(LoginVerificationTest, MatchInOldSchemeCarriesNewHash) {
  VerifyResult result = verify_for_login(kMd5Crypt, "secret", HashPolicy{});
  EXPECT_EQ(result.outcome, VerifyOutcome::kMatch);
  ASSERT_EQ(result.new_hash.substr(0, 7), "$y$j9T$");
  EXPECT_TRUE(result.message.empty()) << result.message;
  Result<bool> verdict = verify_password(result.new_hash, "secret");
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(*verdict);
}

TEST(LoginVerificationTest, RehashCanBeTurnedOff) {
  VerifyResult result = verify_for_login(kMd5Crypt, "secret", HashPolicy{.rehash_on_login = false});
  EXPECT_EQ(result.outcome, VerifyOutcome::kMatch);
  EXPECT_TRUE(result.new_hash.empty());
}

TEST(LoginVerificationTest, CurrentSchemeIsNotRehashed) {
  Result<std::string> current = hash_password("secret");
  ASSERT_TRUE(current.ok());
  VerifyResult result = verify_for_login(*current, "secret", HashPolicy{});
  EXPECT_EQ(result.outcome, VerifyOutcome::kMatch);
  EXPECT_TRUE(result.new_hash.empty());
}

TEST(LoginVerificationTest, MismatchAndErrorCarryNoHash) {
  VerifyResult mismatch = verify_for_login(kMd5Crypt, "Secret", HashPolicy{});
  EXPECT_EQ(mismatch.outcome, VerifyOutcome::kMismatch);
  EXPECT_TRUE(mismatch.new_hash.empty());

  VerifyResult error = verify_for_login("{SSHA}!!", "secret", HashPolicy{});
  EXPECT_EQ(error.outcome, VerifyOutcome::kError);
  EXPECT_TRUE(error.new_hash.empty());
  EXPECT_NE(error.message.find("{SSHA}"), std::string::npos) << error.message;

  VerifyResult locked = verify_for_login("!", "", HashPolicy{});
  EXPECT_EQ(locked.outcome, VerifyOutcome::kMismatch);
}

TEST(LoginVerificationTest, SecretStringWipesOnMove) {
  SecretString a(std::string("short"));
  SecretString b(std::move(a));
  EXPECT_EQ(b.view(), "short");
  EXPECT_TRUE(a.view().empty());  // NOLINT: checking the moved-from state is the point
  b.wipe();
  EXPECT_TRUE(b.view().empty());
}

}  // namespace
}  // namespace postcore::auth
