#include "common/base64.h"

#include <string.h>

#include <cstdint>

namespace postcore {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string decode_base64_lenient(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const int value = base64_value(c);
    if (value < 0) continue;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

bool decode_base64(std::string_view text, std::string& out, Base64Padding padding) {
  out.clear();
  // Without padding, the '='s that would complete the last quantum are implied.
  size_t implied = 0;
  if (padding == Base64Padding::optional && !text.ends_with('=') && text.size() % 4 != 0)
    implied = 4 - text.size() % 4;
  if ((text.size() + implied) % 4 != 0 || implied == 3) return false;
  const size_t total = text.size() + implied;
  for (size_t at = 0; at < total; at += 4) {
    char quantum[4];
    for (size_t i = 0; i < 4; ++i) quantum[i] = at + i < text.size() ? text[at + i] : '=';
    // "=" only at the end of the last quantum: "xxx=" or "xx==".
    size_t pad = 0;
    if (at + 4 == total && quantum[3] == '=') pad = quantum[2] == '=' ? 2 : 1;
    uint32_t bits = 0;
    for (size_t i = 0; i < 4 - pad; ++i) {
      const int value = base64_value(quantum[i]);
      if (value < 0) return false;
      bits = (bits << 6) | static_cast<uint32_t>(value);
    }
    bits <<= 6 * pad;
    if ((bits & ((1u << (8 * pad)) - 1)) != 0) return false;  // pad bits not zero
    out.push_back(static_cast<char>(bits >> 16));
    if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(bits & 0xFF));
  }
  return true;
}

void wipe_string(std::string& s) {
  explicit_bzero(s.data(), s.capacity());
  s.clear();
}

}  // namespace postcore
