// Recognises how a stored password is written: which scheme made it, where the hash or
// digest sits inside the string, and how a digest is encoded.
//
// Accepted forms (scheme names in braces are case-insensitive, as in Dovecot):
//   bare crypt(3) strings   DES (13 chars), $1$, $5$, $6$, $2a$/$2b$/$2y$, $y$, and any other
//                           "$id$" or "_" string libxcrypt implements ($2x$, $gy$, $7$, …)
//   {CRYPT}<crypt string>   also {MD5-CRYPT} {SHA256-CRYPT} {SHA512-CRYPT} {BLF-CRYPT}
//                           {DES-CRYPT}, the names Dovecot writes
//   {SHA} {SHA1} {SHA256} {SHA512}            base64 digest (hex when its length says so)
//   {SSHA} {SSHA256} {SSHA512} {SMD5}          base64(digest(password + salt) + salt)
//   {MD5}                   "$1$…" after it is MD5-crypt (Dovecot's meaning); anything
//                           else is an MD5 digest, base64 (OpenLDAP's meaning) or hex
//   {PLAIN-MD5} {LDAP-MD5}  MD5 digest, hex or base64
//   {PLAIN} {CLEARTEXT} {CLEAR}  the password itself
//   "<scheme>.HEX", ".B64", ".BASE64"  explicit encoding, for digest and cleartext schemes
//   0x02 <crypt string>     CommuniGate Pro's Unix-crypt ("U-crpt") password form
//   "*…", "!…"              a locked account: never matches, and is not an error
//
// Anything else — empty, an unknown {NAME}, a bare string that is no crypt(3) hash — is an
// error, never "no match": an import mistake must be loud, not look like a wrong password.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::auth {

enum class PasswordScheme : uint8_t {
  kDesCrypt,
  kMd5Crypt,
  kSha256Crypt,
  kSha512Crypt,
  kBcrypt,
  kYescrypt,
  kOtherCrypt,  // another method libxcrypt implements; verify_password decides if it is valid
  kSha1,
  kSaltedSha1,
  kSha256,
  kSaltedSha256,
  kSha512,
  kSaltedSha512,
  kMd5,
  kSaltedMd5,
  kPlain,
  kLocked,
};

enum class PayloadEncoding : uint8_t {
  kCrypt,  // a crypt(3) string, passed to libxcrypt as it is
  kRaw,    // cleartext as written
  kBase64,
  kHex,
  kBase64OrHex,  // unsalted digest without suffix: hex when exactly twice the digest size
};

// Views into the stored string given to parse_stored_password; it must outlive this.
struct StoredPassword {
  PasswordScheme scheme;
  PayloadEncoding encoding;
  std::string_view payload;  // crypt string, encoded digest or cleartext
  std::string_view label;    // how the form was written, for messages: "{SSHA}", "$6$", …
};

Result<StoredPassword> parse_stored_password(std::string_view stored);

// The Dovecot-style name of a scheme ("SSHA", "SHA512-CRYPT", …), for logs and messages.
std::string_view scheme_name(PasswordScheme scheme);

// "$6$ (SHA512-CRYPT)", "{CRYPT} (MD5-CRYPT)", "{SSHA} (SSHA)": the form as written and
// the scheme it names, for messages.
std::string describe_scheme(const StoredPassword& stored);

// Digest size in bytes for the digest schemes, 0 for the others.
size_t digest_size(PasswordScheme scheme);

bool is_crypt_scheme(PasswordScheme scheme);

}  // namespace postcore::auth
