#include "control/auth/password_scheme.h"

#include <crypt.h>
#include <errno.h>

#include <algorithm>
#include <array>
#include <string>

namespace postcore::auth {
namespace {

Error invalid(std::string message) {
  return make_error(EINVAL, std::move(message));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

bool is_crypt64_char(char c) {
  return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

struct CryptPrefix {
  std::string_view prefix;
  PasswordScheme scheme;
};

constexpr std::array<CryptPrefix, 7> kCryptPrefixes = {{
    {"$1$", PasswordScheme::kMd5Crypt},
    {"$5$", PasswordScheme::kSha256Crypt},
    {"$6$", PasswordScheme::kSha512Crypt},
    {"$2a$", PasswordScheme::kBcrypt},
    {"$2b$", PasswordScheme::kBcrypt},
    {"$2y$", PasswordScheme::kBcrypt},
    {"$y$", PasswordScheme::kYescrypt},
}};

// "$gy$" of "$gy$j9T$…", "_" of a BSDi hash. Capped, so a message never quotes a hash.
std::string_view crypt_method_id(std::string_view hash) {
  if (hash[0] != '$') return hash.substr(0, 1);
  size_t end = hash.find('$', 1);
  return hash.substr(0, std::min<size_t>(end == std::string_view::npos ? 1 : end + 1, 8));
}

// `label` names the wrapper in messages ("{CRYPT}", "CommuniGate 0x02"); empty for bare.
Result<StoredPassword> parse_crypt(std::string_view hash, std::string_view label) {
  auto where = [&](std::string what) {
    return label.empty() ? what : std::string(label) + ": " + what;
  };
  if (hash.empty()) return invalid(where("empty crypt(3) hash"));

  PasswordScheme scheme;
  std::string_view prefix;
  if (hash[0] == '$' || hash[0] == '_') {
    scheme = PasswordScheme::kOtherCrypt;
    prefix = crypt_method_id(hash);
    for (const CryptPrefix& p : kCryptPrefixes) {
      if (hash.substr(0, p.prefix.size()) == p.prefix) {
        scheme = p.scheme;
        prefix = p.prefix;
        break;
      }
    }
  } else if (hash.size() == 13) {
    for (char c : hash) {
      if (!is_crypt64_char(c)) {
        return invalid(where("13-character string is not a DES crypt hash (bad character)"));
      }
    }
    scheme = PasswordScheme::kDesCrypt;
    prefix = "DES";
  } else {
    return invalid(
        where("not a recognised password form: no {SCHEME} prefix and not a "
              "crypt(3) hash"));
  }

  StoredPassword parsed{scheme, PayloadEncoding::kCrypt, hash, label.empty() ? prefix : label};
  // crypt_checksalt knows every method this libxcrypt implements and rejects characters
  // no hash may contain; it needs a terminated string.
  std::string terminated(hash);
  if (terminated.find('\0') != std::string::npos ||
      crypt_checksalt(terminated.c_str()) == CRYPT_SALT_INVALID) {
    if (scheme == PasswordScheme::kOtherCrypt) {
      return invalid(where("unknown or unsupported crypt(3) method \"" +
                           std::string(crypt_method_id(hash)) + "\""));
    }
    return invalid(describe_scheme(parsed) + " hash is malformed");
  }
  return parsed;
}

enum class BraceKind : uint8_t { kCrypt, kMd5, kDigest, kPlain };

struct BraceScheme {
  std::string_view name;
  BraceKind kind;
  PasswordScheme scheme;     // unused for kCrypt: the crypt string names its own method
  PayloadEncoding encoding;  // used when the name has no encoding suffix
};

constexpr std::array<BraceScheme, 20> kBraceSchemes = {{
    {"CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"DES-CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"MD5-CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"SHA256-CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"SHA512-CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"BLF-CRYPT", BraceKind::kCrypt, PasswordScheme::kOtherCrypt, PayloadEncoding::kCrypt},
    {"MD5", BraceKind::kMd5, PasswordScheme::kMd5, PayloadEncoding::kBase64OrHex},
    {"PLAIN-MD5", BraceKind::kDigest, PasswordScheme::kMd5, PayloadEncoding::kBase64OrHex},
    {"LDAP-MD5", BraceKind::kDigest, PasswordScheme::kMd5, PayloadEncoding::kBase64OrHex},
    {"SMD5", BraceKind::kDigest, PasswordScheme::kSaltedMd5, PayloadEncoding::kBase64},
    {"SHA", BraceKind::kDigest, PasswordScheme::kSha1, PayloadEncoding::kBase64OrHex},
    {"SHA1", BraceKind::kDigest, PasswordScheme::kSha1, PayloadEncoding::kBase64OrHex},
    {"SSHA", BraceKind::kDigest, PasswordScheme::kSaltedSha1, PayloadEncoding::kBase64},
    {"SHA256", BraceKind::kDigest, PasswordScheme::kSha256, PayloadEncoding::kBase64OrHex},
    {"SSHA256", BraceKind::kDigest, PasswordScheme::kSaltedSha256, PayloadEncoding::kBase64},
    {"SHA512", BraceKind::kDigest, PasswordScheme::kSha512, PayloadEncoding::kBase64OrHex},
    {"SSHA512", BraceKind::kDigest, PasswordScheme::kSaltedSha512, PayloadEncoding::kBase64},
    {"PLAIN", BraceKind::kPlain, PasswordScheme::kPlain, PayloadEncoding::kRaw},
    {"CLEARTEXT", BraceKind::kPlain, PasswordScheme::kPlain, PayloadEncoding::kRaw},
    {"CLEAR", BraceKind::kPlain, PasswordScheme::kPlain, PayloadEncoding::kRaw},
}};

Result<StoredPassword> parse_braced(std::string_view stored) {
  size_t close = stored.find('}');
  if (close == std::string_view::npos) {
    return invalid("password starts with '{' but has no closing '}'");
  }
  std::string_view label = stored.substr(0, close + 1);
  std::string_view name = stored.substr(1, close - 1);
  std::string_view payload = stored.substr(close + 1);

  std::string_view suffix;
  bool has_suffix = false;
  if (size_t dot = name.find('.'); dot != std::string_view::npos) {
    suffix = name.substr(dot + 1);
    name = name.substr(0, dot);
    has_suffix = true;
  }

  const BraceScheme* found = nullptr;
  for (const BraceScheme& s : kBraceSchemes) {
    if (iequals(s.name, name)) {
      found = &s;
      break;
    }
  }
  if (found == nullptr) return invalid("unknown password scheme " + std::string(label));

  if (found->kind == BraceKind::kCrypt) {
    if (has_suffix) {
      return invalid(std::string(label) + ": crypt(3) schemes take no encoding suffix");
    }
    return parse_crypt(payload, label);
  }

  PayloadEncoding encoding = found->encoding;
  if (has_suffix) {
    if (iequals(suffix, "HEX")) {
      encoding = PayloadEncoding::kHex;
    } else if (iequals(suffix, "B64") || iequals(suffix, "BASE64")) {
      encoding = PayloadEncoding::kBase64;
    } else {
      return invalid(std::string(label) + ": unknown encoding suffix \"." + std::string(suffix) +
                     "\" (expected .HEX, .B64 or .BASE64)");
    }
  } else if (found->kind == BraceKind::kMd5 && payload.substr(0, 3) == "$1$") {
    // Dovecot's {MD5} is MD5-crypt; OpenLDAP's is a plain digest. The "$1$" cannot start
    // a base64 or hex digest, so both readings coexist without ambiguity.
    return parse_crypt(payload, label);
  }
  if (payload.empty()) return invalid(std::string(label) + ": nothing after the scheme name");
  return StoredPassword{found->scheme, encoding, payload, label};
}

}  // namespace

Result<StoredPassword> parse_stored_password(std::string_view stored) {
  if (stored.empty()) return invalid("stored password is empty");
  if (stored[0] == '*' || stored[0] == '!') {
    return StoredPassword{PasswordScheme::kLocked, PayloadEncoding::kRaw, stored, "locked"};
  }
  if (stored[0] == '\x02') return parse_crypt(stored.substr(1), "CommuniGate 0x02");
  if (stored[0] == '{') return parse_braced(stored);
  return parse_crypt(stored, "");
}

std::string_view scheme_name(PasswordScheme scheme) {
  switch (scheme) {
    case PasswordScheme::kDesCrypt:
      return "DES-CRYPT";
    case PasswordScheme::kMd5Crypt:
      return "MD5-CRYPT";
    case PasswordScheme::kSha256Crypt:
      return "SHA256-CRYPT";
    case PasswordScheme::kSha512Crypt:
      return "SHA512-CRYPT";
    case PasswordScheme::kBcrypt:
      return "BLF-CRYPT";
    case PasswordScheme::kYescrypt:
      return "YESCRYPT";
    case PasswordScheme::kOtherCrypt:
      return "CRYPT";
    case PasswordScheme::kSha1:
      return "SHA";
    case PasswordScheme::kSaltedSha1:
      return "SSHA";
    case PasswordScheme::kSha256:
      return "SHA256";
    case PasswordScheme::kSaltedSha256:
      return "SSHA256";
    case PasswordScheme::kSha512:
      return "SHA512";
    case PasswordScheme::kSaltedSha512:
      return "SSHA512";
    case PasswordScheme::kMd5:
      return "MD5";
    case PasswordScheme::kSaltedMd5:
      return "SMD5";
    case PasswordScheme::kPlain:
      return "PLAIN";
    case PasswordScheme::kLocked:
      return "LOCKED";
  }
  return "UNKNOWN";
}

std::string describe_scheme(const StoredPassword& stored) {
  std::string_view name = scheme_name(stored.scheme);
  if (stored.label == name) return std::string(name);
  return std::string(stored.label) + " (" + std::string(name) + ")";
}

size_t digest_size(PasswordScheme scheme) {
  switch (scheme) {
    case PasswordScheme::kSha1:
    case PasswordScheme::kSaltedSha1:
      return 20;
    case PasswordScheme::kSha256:
    case PasswordScheme::kSaltedSha256:
      return 32;
    case PasswordScheme::kSha512:
    case PasswordScheme::kSaltedSha512:
      return 64;
    case PasswordScheme::kMd5:
    case PasswordScheme::kSaltedMd5:
      return 16;
    default:
      return 0;
  }
}

bool is_crypt_scheme(PasswordScheme scheme) {
  switch (scheme) {
    case PasswordScheme::kDesCrypt:
    case PasswordScheme::kMd5Crypt:
    case PasswordScheme::kSha256Crypt:
    case PasswordScheme::kSha512Crypt:
    case PasswordScheme::kBcrypt:
    case PasswordScheme::kYescrypt:
    case PasswordScheme::kOtherCrypt:
      return true;
    default:
      return false;
  }
}

}  // namespace postcore::auth
