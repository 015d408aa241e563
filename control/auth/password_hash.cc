#include "control/auth/password_hash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <array>

#include "control/auth/crypt_backend.h"
#include "control/auth/password_scheme.h"

namespace postcore::auth {
namespace {

// libxcrypt uses at most 32 bytes of salt entropy for yescrypt (it needs at least 16).
constexpr size_t kSaltEntropyBytes = 32;

Result<void> fill_random(std::span<unsigned char> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return make_error(err, std::string("getrandom: ") + strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Result<void> validate_hash_options(const HashOptions& options) {
  std::array<unsigned char, kSaltEntropyBytes> zeros{};
  Result<std::string> setting = yescrypt_setting(options.yescrypt_cost, zeros);
  if (!setting) return setting.error();
  return {};
}

Result<std::string> hash_password(std::string_view password, const HashOptions& options) {
  std::array<unsigned char, kSaltEntropyBytes> random{};
  if (Result<void> filled = fill_random(random); !filled) return filled.error();
  Result<std::string> setting = yescrypt_setting(options.yescrypt_cost, random);
  if (!setting) return setting.error();
  return crypt_hash(password, *setting);
}

bool needs_rehash(std::string_view stored, const HashPolicy& policy) {
  if (!policy.rehash_on_login) return false;
  Result<StoredPassword> parsed = parse_stored_password(stored);
  if (!parsed || parsed->scheme == PasswordScheme::kLocked) return false;
  if (parsed->scheme != PasswordScheme::kYescrypt) return true;

  // Compare against what libxcrypt itself writes for the policy's cost, so the encoding of
  // yescrypt parameters stays libxcrypt's business. The salt bytes do not affect them.
  std::array<unsigned char, kSaltEntropyBytes> zeros{};
  Result<std::string> wanted = yescrypt_setting(policy.hash.yescrypt_cost, zeros);
  if (!wanted) return false;  // a bad cost cannot produce a hash to replace this one with
  return yescrypt_params(parsed->payload) != yescrypt_params(*wanted);
}

}  // namespace postcore::auth
