// Hashing new passwords (always yescrypt, "$y$") and deciding when a stored password
// should be replaced by a fresh hash after a successful login.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::auth {

struct HashOptions {
  // libxcrypt's yescrypt cost, 1 (fast) to 11 (slow); 0 takes libxcrypt's default (5,
  // written "j9T"), which is what mkpasswd and passwd(1) use.
  unsigned long yescrypt_cost = 0;
};

struct HashPolicy {
  // Off: logins never produce a new hash, whatever the stored scheme.
  bool rehash_on_login = true;
  HashOptions hash;
};

// Error when the cost is out of range.
Result<void> validate_hash_options(const HashOptions& options);

// A new "$y$" hash of `password` with a 32-byte salt from getrandom(2). Error for a
// password libxcrypt cannot take (over 511 bytes, or with a NUL byte), a bad cost, or no
// randomness.
Result<std::string> hash_password(std::string_view password, const HashOptions& options = {});

// True when `stored` is a well-formed password in a scheme other than yescrypt at the
// policy's cost, and the policy asks for rehashing. False for locked accounts and for
// strings verify_password would reject (there is nothing to rehash from). The form around
// a current hash does not matter: "{CRYPT}$y$j9T$…" is current.
bool needs_rehash(std::string_view stored, const HashPolicy& policy);

}  // namespace postcore::auth
