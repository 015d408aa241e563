#include "control/migrate/mail_names.h"

#include <cstdio>

namespace postcore::migrate {
namespace {

constexpr size_t kMaxLocalPart = 64;
constexpr size_t kMaxDomain = 253;
constexpr size_t kMaxLabel = 63;
constexpr std::string_view kNoBreakSpace = "\xC2\xA0";

bool is_alpha_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_atext(char c) {
  return is_alpha_digit(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string describe(std::string_view text, size_t at) {
  if (text.substr(at, kNoBreakSpace.size()) == kNoBreakSpace)
    return "a no-break space (U+00A0), as happens when text is copied from a web page";
  auto c = static_cast<unsigned char>(text[at]);
  if (c >= 0x80) return "a non-ASCII character";
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  char buf[8];
  std::snprintf(buf, sizeof buf, "'%c'", c);
  return buf;
}

}  // namespace

std::optional<NameProblem> check_local_part(std::string_view text) {
  if (text.empty()) return NameProblem{0, "the name is empty"};
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (i == 0) return NameProblem{i, "the name starts with a dot"};
      if (i + 1 == text.size()) return NameProblem{i, "the name ends with a dot"};
      if (text[i + 1] == '.') return NameProblem{i, "the name has two dots in a row"};
      continue;
    }
    if (!is_atext(c))
      return NameProblem{i, "the name contains " + describe(text, i) +
                                ", which an address local part cannot hold unquoted"};
  }
  if (text.size() > kMaxLocalPart)
    return NameProblem{kMaxLocalPart, "the name is longer than 64 characters"};
  return std::nullopt;
}

std::optional<NameProblem> check_domain(std::string_view text) {
  if (text.empty()) return NameProblem{0, "the domain is empty"};
  size_t label_start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      size_t length = i - label_start;
      if (length == 0)
        return NameProblem{
            i, i == text.size() ? "the domain ends with a dot" : "the domain has an empty label"};
      if (length > kMaxLabel)
        return NameProblem{label_start, "a domain label is longer than 63 characters"};
      if (text[label_start] == '-' || text[i - 1] == '-')
        return NameProblem{text[label_start] == '-' ? label_start : i - 1,
                           "a domain label starts or ends with '-'"};
      label_start = i + 1;
      continue;
    }
    char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80)
      return NameProblem{i, "the domain contains " + describe(text, i) +
                                "; give internationalised domains in their xn-- form"};
    if (!is_alpha_digit(c) && c != '-')
      return NameProblem{i, "the domain contains " + describe(text, i)};
  }
  if (text.size() > kMaxDomain)
    return NameProblem{kMaxDomain, "the domain is longer than 253 characters"};
  return std::nullopt;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace postcore::migrate
