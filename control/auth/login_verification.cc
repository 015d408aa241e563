#include "control/auth/login_verification.h"

#include "control/auth/password_verify.h"

namespace postcore::auth {

VerifyResult verify_for_login(std::string_view stored, std::string_view candidate,
                              const HashPolicy& policy) {
  VerifyResult result;
  Result<bool> verdict = verify_password(stored, candidate);
  if (!verdict) {
    result.outcome = VerifyOutcome::kError;
    result.message = verdict.error().message;
    return result;
  }
  if (!*verdict) {
    result.outcome = VerifyOutcome::kMismatch;
    return result;
  }
  result.outcome = VerifyOutcome::kMatch;
  if (needs_rehash(stored, policy)) {
    Result<std::string> fresh = hash_password(candidate, policy.hash);
    if (fresh) {
      result.new_hash = std::move(*fresh);
    } else {
      result.message = "rehash failed: " + fresh.error().message;
    }
  }
  return result;
}

}  // namespace postcore::auth
