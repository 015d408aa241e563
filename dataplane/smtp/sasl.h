// The pieces of SMTP AUTH (RFC 4954) that are plain functions: the PLAIN message (RFC 4616)
// and the checks on a name or password. The responses' base64 and wiping a buffer that held
// a password are in common/base64.h.
#pragma once

#include <string>
#include <string_view>

namespace postcore::smtp {

// One field of a PLAIN message or one LOGIN response: 1 to 255 octets of UTF-8 without NUL,
// CR or LF (RFC 4616 2, UTF8-SAFE).
bool valid_sasl_field(std::string_view text);

struct PlainCredentials {
  std::string_view authzid;  // empty when the client named none
  std::string_view authcid;
  std::string_view password;
};

// RFC 4616 2: [authzid] NUL authcid NUL passwd, each field valid_sasl_field() (authzid may
// also be empty). The views point into message.
bool parse_plain(std::string_view message, PlainCredentials* out);

}  // namespace postcore::smtp
