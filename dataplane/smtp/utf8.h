// UTF-8 well-formedness for the places RFC 6531 lets non-ASCII text into SMTP commands.
#pragma once

#include <cstddef>
#include <string_view>

namespace postcore::smtp {

// Length of the well-formed UTF-8 sequence starting at text[0] (which is >= 0x80), or 0 if
// it is not one (overlong forms, surrogates and code points above U+10FFFF are refused).
size_t utf8_sequence_length(std::string_view text);

}  // namespace postcore::smtp
