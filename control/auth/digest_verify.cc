#include "control/auth/digest_verify.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "control/auth/payload_decoding.h"
#include "control/auth/secret_string.h"

namespace postcore::auth {
namespace {

using Digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

struct FreeDigestContext {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* digest_for(PasswordScheme scheme) {
  switch (scheme) {
    case PasswordScheme::kSha1:
    case PasswordScheme::kSaltedSha1:
      return EVP_sha1();
    case PasswordScheme::kSha256:
    case PasswordScheme::kSaltedSha256:
    case PasswordScheme::kPlain:
      return EVP_sha256();
    case PasswordScheme::kSha512:
    case PasswordScheme::kSaltedSha512:
      return EVP_sha512();
    case PasswordScheme::kMd5:
    case PasswordScheme::kSaltedMd5:
      return EVP_md5();
    default:
      return nullptr;
  }
}

bool is_salted(PasswordScheme scheme) {
  return scheme == PasswordScheme::kSaltedSha1 || scheme == PasswordScheme::kSaltedSha256 ||
         scheme == PasswordScheme::kSaltedSha512 || scheme == PasswordScheme::kSaltedMd5;
}

// digest(password + salt), fed in two parts so the password is never concatenated into a
// buffer of its own. EVP_MD_CTX_free cleanses the context.
Result<Digest> compute(const EVP_MD* md, std::string_view password, std::string_view salt) {
  std::unique_ptr<EVP_MD_CTX, FreeDigestContext> ctx(EVP_MD_CTX_new());
  Digest out{};
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), password.data(), password.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1) {
    return make_error(EIO, std::string("OpenSSL cannot compute ") + EVP_MD_get0_name(md));
  }
  return out;
}

std::optional<std::string> decode(const StoredPassword& stored) {
  switch (stored.encoding) {
    case PayloadEncoding::kRaw:
      return std::string(stored.payload);
    case PayloadEncoding::kBase64:
      return decode_base64(stored.payload);
    case PayloadEncoding::kHex:
      return decode_hex(stored.payload);
    case PayloadEncoding::kBase64OrHex:
      // Dovecot's rule: hex exactly when the length is twice the digest size. A base64
      // digest of these sizes never has that length, so nothing valid is misread.
      if (stored.payload.size() == 2 * digest_size(stored.scheme)) {
        if (auto bytes = decode_hex(stored.payload)) return bytes;
      }
      return decode_base64(stored.payload);
    case PayloadEncoding::kCrypt:
      break;
  }
  return std::nullopt;
}

std::string_view encoding_name(PayloadEncoding encoding) {
  switch (encoding) {
    case PayloadEncoding::kHex:
      return "hex";
    case PayloadEncoding::kBase64:
      return "base64";
    default:
      return "base64 or hex";
  }
}

// Cleartext compared through SHA-256 so the time taken does not depend on where, or
// whether, the two first differ, nor on the stored password's length.
Result<bool> verify_plain(std::string_view cleartext, std::string_view candidate) {
  Result<Digest> want = compute(EVP_sha256(), cleartext, {});
  Result<Digest> got = compute(EVP_sha256(), candidate, {});
  if (!want) return want.error();
  if (!got) return got.error();
  return CRYPTO_memcmp(want->data(), got->data(), 32) == 0;
}

}  // namespace

Result<bool> verify_digest(const StoredPassword& stored, std::string_view candidate) {
  const std::string label(stored.label);
  std::optional<std::string> bytes = decode(stored);
  if (!bytes) {
    return make_error(EINVAL, label + ": stored value is not valid " +
                                  std::string(encoding_name(stored.encoding)));
  }
  // Decoded {PLAIN.B64} and {PLAIN.HEX} values are passwords: wiped when done.
  SecretString decoded(std::move(*bytes));
  std::string_view raw = decoded.view();

  if (stored.scheme == PasswordScheme::kPlain) {
    if (raw.empty()) return make_error(EINVAL, label + ": stored cleartext password is empty");
    return verify_plain(raw, candidate);
  }

  const EVP_MD* md = digest_for(stored.scheme);
  const size_t size = digest_size(stored.scheme);
  if (md == nullptr || size == 0) {
    return make_error(
        EINVAL, label + ": " + std::string(scheme_name(stored.scheme)) + " is not a digest scheme");
  }
  if (is_salted(stored.scheme)) {
    if (raw.size() <= size) {
      return make_error(EINVAL, label + ": decoded value is " + std::to_string(raw.size()) +
                                    " bytes, too short for a " + std::to_string(size) +
                                    "-byte digest followed by a salt");
    }
  } else if (raw.size() != size) {
    return make_error(EINVAL, label + ": decoded value is " + std::to_string(raw.size()) +
                                  " bytes, expected a " + std::to_string(size) + "-byte digest");
  }

  Result<Digest> computed = compute(md, candidate, raw.substr(size));
  if (!computed) return computed.error();
  return CRYPTO_memcmp(computed->data(), raw.data(), size) == 0;
}

}  // namespace postcore::auth
