#include "control/auth/crypt_backend.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include <memory>

namespace postcore::auth {
namespace {

// struct crypt_data is about 32 KiB: too big for the small stacks reactors may run on.
struct WipedCryptData {
  void operator()(crypt_data* data) const {
    if (data == nullptr) return;
    explicit_bzero(data, sizeof *data);
    delete data;
  }
};
using CryptWorkspace = std::unique_ptr<crypt_data, WipedCryptData>;

CryptWorkspace new_workspace() {
  // Value-initialised: libxcrypt asks for zeroed reserved fields before first use.
  return CryptWorkspace(new crypt_data{});
}

// Runs crypt_rn with the passphrase and setting copied into the work area itself, so no
// other copy of the passphrase is made. Returns the hash inside `data`, or null with errno.
const char* run_crypt(crypt_data& data, std::string_view passphrase, std::string_view setting) {
  if (setting.size() >= sizeof data.setting || setting.find('\0') != std::string_view::npos) {
    errno = EINVAL;
    return nullptr;
  }
  memcpy(data.input, passphrase.data(), passphrase.size());
  data.input[passphrase.size()] = '\0';
  memcpy(data.setting, setting.data(), setting.size());
  data.setting[setting.size()] = '\0';
  return crypt_rn(data.input, data.setting, &data, sizeof data);
}

}  // namespace

bool crypt_accepts_passphrase(std::string_view passphrase) {
  return passphrase.size() <= kMaxPassphraseBytes &&
         passphrase.find('\0') == std::string_view::npos;
}

Result<std::string> crypt_hash(std::string_view passphrase, std::string_view setting) {
  if (!crypt_accepts_passphrase(passphrase)) {
    return make_error(EINVAL, "password is longer than " + std::to_string(kMaxPassphraseBytes) +
                                  " bytes or contains a NUL byte");
  }
  CryptWorkspace data = new_workspace();
  const char* hash = run_crypt(*data, passphrase, setting);
  if (hash == nullptr) {
    int err = errno;
    return make_error(err, std::string("crypt(3) rejected the setting: ") + strerror(err));
  }
  return std::string(hash);
}

Result<bool> crypt_matches(std::string_view passphrase, std::string_view hash,
                           std::string_view scheme) {
  if (!crypt_accepts_passphrase(passphrase)) return false;
  CryptWorkspace data = new_workspace();
  const char* computed = run_crypt(*data, passphrase, hash);
  if (computed == nullptr) {
    return make_error(EINVAL, std::string(scheme) +
                                  " hash is malformed or its method is "
                                  "not supported by libxcrypt");
  }
  // The hash of the right passphrase is the stored string itself, so a length difference
  // means no passphrase can match: the stored hash is damaged, not the login wrong.
  if (strlen(computed) != hash.size()) {
    return make_error(EINVAL, std::string(scheme) +
                                  " hash is malformed (truncated or with "
                                  "trailing characters)");
  }
  return CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
}

Result<std::string> yescrypt_setting(unsigned long cost, std::span<const unsigned char> random) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$y$", cost, reinterpret_cast<const char*>(random.data()),
                       static_cast<int>(random.size()), setting, sizeof setting) == nullptr) {
    int err = errno;
    return make_error(err, "cannot make a yescrypt setting at cost " + std::to_string(cost) +
                               " (valid: 1 to 11, or 0 for the default): " + strerror(err));
  }
  return std::string(setting);
}

std::string_view yescrypt_params(std::string_view hash) {
  if (hash.substr(0, 3) != "$y$") return {};
  std::string_view rest = hash.substr(3);
  return rest.substr(0, rest.find('$'));
}

}  // namespace postcore::auth
