#include "control/auth/password_verify.h"

#include "control/auth/crypt_backend.h"
#include "control/auth/digest_verify.h"
#include "control/auth/password_scheme.h"

namespace postcore::auth {

Result<bool> verify_password(std::string_view stored, std::string_view candidate) {
  Result<StoredPassword> parsed = parse_stored_password(stored);
  if (!parsed) return parsed.error();
  if (parsed->scheme == PasswordScheme::kLocked) return false;
  if (candidate.find('\0') != std::string_view::npos) return false;

  if (is_crypt_scheme(parsed->scheme)) {
    return crypt_matches(candidate, parsed->payload, describe_scheme(*parsed));
  }
  return verify_digest(*parsed, candidate);
}

}  // namespace postcore::auth
