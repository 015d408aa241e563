// Hashing clear-text passwords that arrive in bulk with an import. Yescrypt costs tens of
// milliseconds a password by design, which would make a 100,000-account import take an
// hour; a salted SHA-512 ({SSHA512}, 16-byte random salt) costs microseconds. Such a hash
// is not the current scheme, so the first successful login replaces it with yescrypt
// (needs_rehash), and `import accounts --strong` takes the slow road at import time
// instead for operators who prefer that.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::auth {

Result<std::string> hash_password_for_import(std::string_view password);

}  // namespace postcore::auth
