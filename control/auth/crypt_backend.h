// The calls into libxcrypt: hashing a passphrase with a crypt(3) setting, comparing with a
// stored hash, and making yescrypt settings. Each call uses its own work area (so any
// number of threads may call at once) and wipes it before returning, because it held the
// passphrase and intermediate state derived from it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::auth {

// libxcrypt refuses longer passphrases (its limit counts the terminating NUL).
constexpr size_t kMaxPassphraseBytes = 511;

// True when libxcrypt can take the passphrase at all: not too long, no NUL byte.
bool crypt_accepts_passphrase(std::string_view passphrase);

// crypt(3) of `passphrase` under `setting` (a full hash or just its setting part).
// Error EINVAL when libxcrypt rejects the setting; the passphrase must be acceptable.
Result<std::string> crypt_hash(std::string_view passphrase, std::string_view setting);

// Whether hashing `passphrase` under `hash` reproduces `hash`, compared in constant time.
// A hash that could never be reproduced by any passphrase — rejected by libxcrypt, or whose
// recomputation has a different length (truncated, trailing garbage) — is an Error naming
// `scheme`.
Result<bool> crypt_matches(std::string_view passphrase, std::string_view hash,
                           std::string_view scheme);

// A "$y$<params>$<salt>" setting at `cost` (1..11, 0 for libxcrypt's default) whose salt is
// taken from `random_bytes` (at least 16).
Result<std::string> yescrypt_setting(unsigned long cost, std::span<const unsigned char> random);

// "j9T" of "$y$j9T$salt$hash": the yescrypt parameters, empty when `hash` is not "$y$".
std::string_view yescrypt_params(std::string_view hash);

}  // namespace postcore::auth
