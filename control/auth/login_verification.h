// One login's password check as the rest of the system sees it: the verdict, and when the
// password matched but is stored in an outdated scheme, the new hash to store instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "control/auth/password_hash.h"
#include "control/auth/secret_string.h"

namespace postcore::auth {

enum class VerifyOutcome : uint8_t {
  kMatch,
  kMismatch,
  kError,             // the stored password is unusable; `message` says why
  kTemporaryFailure,  // not checked (queue full, shutting down): the client may retry
};

struct VerifyResult {
  VerifyOutcome outcome = VerifyOutcome::kTemporaryFailure;
  // kMatch only: the password hashed in the current scheme, for the caller to store. Empty
  // when no rehash is due or when rehashing failed (then `message` says why; the login
  // still succeeds).
  std::string new_hash;
  std::string message;
};

struct VerifyRequest {
  std::string stored;
  SecretString candidate;  // wiped once the request is done with
};

// verify_password, then hash_password when the policy asks for a rehash.
VerifyResult verify_for_login(std::string_view stored, std::string_view candidate,
                              const HashPolicy& policy);

}  // namespace postcore::auth
