#include "dataplane/smtp/utf8.h"

namespace postcore::smtp {

// Table 3-7 of the Unicode standard: the allowed range of the second octet depends on the
// first; later octets are always 80..BF.
size_t utf8_sequence_length(std::string_view text) {
  if (text.empty()) return 0;
  auto octet = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = octet(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (octet(1) < low || octet(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (octet(i) < 0x80 || octet(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace postcore::smtp
