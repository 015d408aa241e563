// Strict base64 and hex decoding of stored digests ({SSHA}…, {SHA256.HEX}…): any character
// outside the alphabet, misplaced padding or an impossible length is a failure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postcore::auth {

// postcore::decode_base64 with optional padding (common/base64.h).
std::optional<std::string> decode_base64(std::string_view text);

// Even number of hex digits, either case.
std::optional<std::string> decode_hex(std::string_view text);

}  // namespace postcore::auth
