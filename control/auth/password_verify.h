// verify_password: does a login password match a stored password in any accepted form?
// Synchronous and CPU-bound (a yescrypt check takes tens of milliseconds): reactors call
// it through PasswordVerifier, never directly.
#pragma once

#include <string_view>

#include "common/result.h"

namespace postcore::auth {

// true: match. false: no match — a wrong password, a locked account ("*…", "!…"), or a
// candidate no crypt(3) hash can match (over 511 bytes or containing a NUL byte; a NUL is
// refused for every scheme, since the protocols cannot carry one and C-string tools would
// have cut the password there). Error: the stored string is empty, of an unknown scheme
// or malformed (bad base64, wrong digest size, truncated hash); the message names the
// scheme and never quotes the stored value or the candidate.
Result<bool> verify_password(std::string_view stored, std::string_view candidate);

}  // namespace postcore::auth
