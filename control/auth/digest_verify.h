// Verification of the schemes that are a bare message digest ({SHA}, {SSHA512}, {MD5}…)
// or the cleartext itself ({PLAIN}), with OpenSSL's digests and constant-time compares.
#pragma once

#include <string_view>

#include "common/result.h"
#include "control/auth/password_scheme.h"

namespace postcore::auth {

// `stored.scheme` must be a digest scheme (digest_size() > 0) or kPlain. A payload that
// does not decode, or decodes to the wrong size, is an Error naming the scheme.
Result<bool> verify_digest(const StoredPassword& stored, std::string_view candidate);

}  // namespace postcore::auth
