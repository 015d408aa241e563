#include "control/migrate/source_text.h"

#include <cerrno>
#include <cstdio>

namespace postcore::migrate {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr char kCtrlZ = '\x1A';

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// The length of the UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one. `cp` gets the code point.
size_t utf8_sequence(std::string_view s, uint32_t* cp) {
  auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (!is_continuation(static_cast<unsigned char>(s[i]))) return 0;
  uint32_t value = b0 & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) value = (value << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  *cp = value;
  return n;
}

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

std::string code_point_name(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", cp);
  return buf;
}

// The offset and message of the first byte in `text` that no import format accepts.
bool find_bad_byte(std::string_view text, size_t* offset, std::string* message) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = utf8_sequence(text.substr(i), &cp);
    if (n == 0) {
      *offset = i;
      *message = "byte " + hex_byte(static_cast<unsigned char>(text[i])) +
                 " is not UTF-8; convert the file to UTF-8 first (for example with "
                 "iconv -f latin1 -t utf-8)";
      return true;
    }
    if (cp == '\r') {
      *offset = i;
      *message = "carriage return (CR) in the middle of a line";
      return true;
    }
    // C1 controls (U+0080-U+009F) are what Windows-1252 punctuation becomes when a file is
    // converted as Latin-1: refusing them catches that mistake.
    if ((cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      *offset = i;
      *message = "control character " + code_point_name(cp);
      return true;
    }
    i += n;
  }
  return false;
}

}  // namespace

std::string ImportNote::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Result<SourceText> SourceText::open(InputFile file) {
  SourceText source;
  source.file_name_ = file.name;
  std::string_view bytes = file.bytes;
  if (bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());

  // DOS-era tools end a text file with Ctrl-Z, sometimes with a line end after it.
  size_t end = bytes.size();
  while (end > 0 && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r')) --end;
  if (end > 0 && bytes[end - 1] == kCtrlZ) {
    while (end > 0 && bytes[end - 1] == kCtrlZ) --end;
    bytes = bytes.substr(0, end);
  }

  uint32_t number = 0;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t lf = bytes.find('\n', start);
    size_t stop = lf == std::string_view::npos ? bytes.size() : lf;
    std::string_view text = bytes.substr(start, stop - start);
    if (lf != std::string_view::npos && !text.empty() && text.back() == '\r') text.remove_suffix(1);
    SourceLine line{++number, text};
    size_t bad = 0;
    std::string message;
    if (find_bad_byte(text, &bad, &message)) return source.error_at(line, bad, message);
    source.lines_.push_back(line);
    if (lf == std::string_view::npos) break;
    start = lf + 1;
  }
  return source;
}

uint32_t SourceText::column_of(const SourceLine& line, size_t offset) {
  uint32_t column = 1;
  std::string_view before = line.text.substr(0, offset);
  for (char c : before)
    if (!is_continuation(static_cast<unsigned char>(c))) ++column;
  return column;
}

Error SourceText::error_at(const SourceLine& line, size_t offset, std::string_view message) const {
  return make_error(EINVAL, note_at(line, offset, std::string(message)).to_string());
}

ImportNote SourceText::note_at(const SourceLine& line, size_t offset, std::string message) const {
  return ImportNote{std::string(file_name_), line.number, column_of(line, offset),
                    std::move(message)};
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t") == std::string_view::npos;
}

bool is_comment(std::string_view text) {
  size_t first = text.find_first_not_of(" \t");
  return first != std::string_view::npos && text[first] == '#';
}

std::string_view trim_blanks(std::string_view text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace postcore::migrate
