// Strict base64 and hex decoding of stored digests ({SSHA}…, {SHA256.HEX}…).
//
// Hand-written rather than OpenSSL's EVP_DecodeBlock because that one silently trims
// whitespace and reports the padded length (a multiple of 3), so a digest one byte short
// or long would still "decode". Here any character outside the alphabet, misplaced
// padding or an impossible length is a failure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postcore::auth {

// Standard alphabet (RFC 4648 section 4). Padding is optional, but when present it must
// complete the last quantum; '=' anywhere else is rejected.
std::optional<std::string> decode_base64(std::string_view text);

// Even number of hex digits, either case.
std::optional<std::string> decode_hex(std::string_view text);

}  // namespace postcore::auth
