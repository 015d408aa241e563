#include "control/auth/import_hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace postcore::auth {

Result<std::string> hash_password_for_import(std::string_view password) {
  if (password.find('\0') != std::string_view::npos)
    return make_error(EINVAL, "a password may not contain a NUL byte");
  unsigned char salt[16];
  if (getrandom(salt, sizeof(salt), 0) != static_cast<ssize_t>(sizeof(salt)))
    return make_error(errno, std::string("getrandom: ") + std::strerror(errno));
  unsigned char buf[SHA512_DIGEST_LENGTH + sizeof(salt)];
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
            EVP_DigestUpdate(ctx, salt, sizeof(salt)) == 1 &&
            EVP_DigestFinal_ex(ctx, buf, nullptr) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return make_error(EIO, "SHA-512 failed");
  std::memcpy(buf + SHA512_DIGEST_LENGTH, salt, sizeof(salt));
  unsigned char out[4 * ((sizeof(buf) + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, buf, sizeof(buf));
  return "{SSHA512}" + std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

}  // namespace postcore::auth
