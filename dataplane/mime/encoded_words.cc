#include "dataplane/mime/encoded_words.h"

#include <cstdint>

#include "common/base64.h"
#include "dataplane/mime/header_fields.h"

namespace postcore::mime {
namespace {

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// windows-1252's 0x80-0x9F; the five unassigned octets map to the C1 controls of the
// same value, as the WHATWG encoding standard does.
constexpr uint16_t kWindows1252High[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

uint32_t iso_8859_15(unsigned char c) {
  switch (c) {
    case 0xa4:
      return 0x20ac;
    case 0xa6:
      return 0x0160;
    case 0xa8:
      return 0x0161;
    case 0xb4:
      return 0x017d;
    case 0xb8:
      return 0x017e;
    case 0xbc:
      return 0x0152;
    case 0xbd:
      return 0x0153;
    case 0xbe:
      return 0x0178;
    default:
      return c;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `escape` followed by two hex digits is that octet; one not followed by two is kept as it
// is. RFC 2047 "Q" ('=', and '_' for a space) and RFC 2231 values ('%').
std::string decode_hex_escapes(std::string_view text, char escape, bool underscore_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (underscore_is_space && text[i] == '_') {
      out += ' ';
    } else if (text[i] == escape && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

constexpr size_t kMaxEncodedWord = 1024;

struct EncodedWord {
  std::string_view charset;
  std::string octets;
  size_t length = 0;  // of the whole "=?...?=" in the input
};

// Reads an encoded word at the start of text: "=?" charset "?" B|Q "?" text "?=", with
// no white space inside (RFC 2047 section 5).
bool read_encoded_word(std::string_view text, EncodedWord& word) {
  if (!text.starts_with("=?")) return false;
  const size_t charset_end = text.substr(0, kMaxEncodedWord).find('?', 2);
  if (charset_end == std::string_view::npos || charset_end == 2) return false;
  if (charset_end + 2 >= text.size() || text[charset_end + 2] != '?') return false;
  const char encoding = text[charset_end + 1];
  const size_t text_start = charset_end + 3;
  // RFC 2047 allows 75 octets; longer words are decoded too, up to a bound that keeps a
  // field full of unclosed "=?" from costing quadratic time.
  const size_t end = text.substr(0, kMaxEncodedWord).find("?=", text_start);
  if (end == std::string_view::npos) return false;
  const std::string_view encoded = text.substr(text_start, end - text_start);
  for (char c : text.substr(0, end)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  }
  if (encoding == 'B' || encoding == 'b') {
    word.octets = decode_base64_lenient(encoded);
  } else if (encoding == 'Q' || encoding == 'q') {
    word.octets = decode_hex_escapes(encoded, '=', true);
  } else {
    return false;
  }
  word.charset = text.substr(2, charset_end - 2);
  word.length = end + 2;
  return true;
}

}  // namespace

bool charset_to_utf8(std::string_view charset, std::string_view text, std::string& out) {
  const size_t star = charset.find('*');
  const std::string name = lowercase(charset.substr(0, star));
  if (name == "us-ascii" || name == "ascii" || name == "utf-8" || name == "utf8") {
    out.append(text);
    return true;
  }
  if (name == "iso-8859-1" || name == "latin1" || name == "iso_8859-1") {
    for (unsigned char c : text) append_utf8(out, c);
    return true;
  }
  if (name == "iso-8859-15" || name == "latin9" || name == "iso_8859-15") {
    for (unsigned char c : text) append_utf8(out, iso_8859_15(c));
    return true;
  }
  if (name == "windows-1252" || name == "cp1252") {
    for (unsigned char c : text) {
      append_utf8(out, c >= 0x80 && c < 0xa0 ? kWindows1252High[c - 0x80] : c);
    }
    return true;
  }
  return false;
}

std::string decode_encoded_words(std::string_view text) {
  std::string out;
  // Octets of adjacent encoded words in one charset, decoded together.
  std::string pending;
  std::string_view pending_charset;
  std::string_view pending_raw;  // the same words as sent, for an unknown charset
  auto flush = [&] {
    if (pending_raw.empty()) return;
    if (!charset_to_utf8(pending_charset, pending, out)) out.append(pending_raw);
    pending.clear();
    pending_raw = {};
  };
  size_t i = 0;
  while (i < text.size()) {
    EncodedWord word;
    if (text[i] == '=' && read_encoded_word(text.substr(i), word)) {
      const std::string_view raw = text.substr(i, word.length);
      const bool same =
          !pending_raw.empty() && lowercase(word.charset) == lowercase(pending_charset);
      if (same) {
        pending += word.octets;
        // Extend the raw span over the dropped white space and this word.
        pending_raw = std::string_view(
            pending_raw.data(), static_cast<size_t>(raw.data() + raw.size() - pending_raw.data()));
      } else {
        flush();
        pending = std::move(word.octets);
        pending_charset = word.charset;
        pending_raw = raw;
      }
      i += word.length;
      continue;
    }
    // White space between two encoded words is dropped (RFC 2047 section 6.2).
    if (!pending_raw.empty() && (text[i] == ' ' || text[i] == '\t')) {
      size_t end = i;
      while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
      EncodedWord next;
      if (end < text.size() && read_encoded_word(text.substr(end), next)) {
        i = end;
        continue;
      }
    }
    flush();
    // Plain text up to the next possible encoded word, as it is.
    size_t next = text.find("=?", i + 1);
    if (next == std::string_view::npos) next = text.size();
    out.append(text.substr(i, next - i));
    i = next;
  }
  flush();
  return out;
}

std::string decode_rfc2231_value(std::string_view value) {
  const size_t first = value.find('\'');
  const size_t second = first == std::string_view::npos ? first : value.find('\'', first + 1);
  if (second == std::string_view::npos) return decode_hex_escapes(value, '%', false);
  std::string out;
  const std::string_view charset = value.substr(0, first);
  const std::string octets = decode_hex_escapes(value.substr(second + 1), '%', false);
  // RFC 2231 allows an empty charset; the octets are then taken as they are.
  if (charset.empty()) return octets;
  if (!charset_to_utf8(charset, octets, out)) return std::string(value);
  return out;
}

}  // namespace postcore::mime
