#include "dataplane/smtp/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "dataplane/smtp/ascii.h"
#include "dataplane/smtp/utf8.h"

namespace postcore::smtp {
namespace {

constexpr size_t kMaxLocalPart = 64;
constexpr size_t kMaxDomain = 255;
constexpr size_t kMaxPath = 256;
constexpr size_t kMaxLabel = 63;

bool is_atext(unsigned char c) {
  return is_alnum(c) || (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

// A cursor over the path; each parse_ member advances it past what it accepted, or returns
// false leaving it anywhere (the whole path is then refused).
class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  PathError parse(Path* out) {
    if (!take('<')) return PathError::syntax;
    if (take('>')) {
      out->null = true;
      out->length = pos_;
      return PathError::none;
    }
    if (peek() == '@' && !parse_source_route()) return PathError::syntax;
    const size_t mailbox_start = pos_;
    if (!parse_local_part()) return PathError::syntax;
    const size_t local_length = pos_ - mailbox_start;
    if (take('>')) {
      // Only "<Postmaster>" may omit the domain.
      if (!iequals(text_.substr(mailbox_start, local_length), "postmaster")) {
        return PathError::syntax;
      }
      out->postmaster = true;
      return finish(mailbox_start, out);
    }
    if (!take('@')) return PathError::syntax;
    const size_t domain_start = pos_;
    if (!parse_domain_or_literal()) return PathError::syntax;
    const size_t domain_length = pos_ - domain_start;
    if (!take('>')) return PathError::syntax;
    if (local_length > kMaxLocalPart) return PathError::local_part_too_long;
    if (domain_length > kMaxDomain) return PathError::domain_too_long;
    return finish(mailbox_start, out);
  }

 private:
  PathError finish(size_t mailbox_start, Path* out) {
    if (pos_ > kMaxPath) return PathError::path_too_long;
    out->mailbox = text_.substr(mailbox_start, pos_ - 1 - mailbox_start);
    out->length = pos_;
    out->non_ascii = non_ascii_;
    return PathError::none;
  }

  int peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1; }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Takes one well-formed UTF-8 sequence, if one starts here.
  bool take_utf8() {
    if (peek() < 0x80) return false;
    const size_t length = utf8_sequence_length(text_.substr(pos_));
    if (length == 0) return false;
    pos_ += length;
    non_ascii_ = true;
    return true;
  }

  // A-d-l ":" — e.g. "@a.example,@b.example:"
  bool parse_source_route() {
    do {
      if (!take('@') || !parse_domain()) return false;
    } while (take(','));
    return take(':');
  }

  bool parse_local_part() { return peek() == '"' ? parse_quoted_string() : parse_dot_string(); }

  bool parse_dot_string() {
    do {
      if (!parse_atom()) return false;
    } while (take('.'));
    return true;
  }

  bool parse_atom() {
    const size_t start = pos_;
    for (;;) {
      const int c = peek();
      if (c >= 0 && c < 0x80 && is_atext(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (!take_utf8()) {
        break;
      }
    }
    return pos_ > start;
  }

  // qtextSMTP is %d32-33 / %d35-91 / %d93-126; quoted-pairSMTP is "\" %d32-126.
  bool parse_quoted_string() {
    take('"');
    for (;;) {
      const int c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        const int quoted = peek();
        if (quoted < 32 || quoted > 126) return false;
        ++pos_;
      } else if (c >= 32 && c <= 126) {
        ++pos_;
      } else if (!take_utf8()) {
        return false;
      }
    }
  }

  bool parse_domain_or_literal() {
    return peek() == '[' ? parse_address_literal() : parse_domain();
  }

  // sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str], or a U-label.
  bool parse_domain() {
    do {
      if (!parse_sub_domain()) return false;
    } while (take('.'));
    return true;
  }

  bool parse_sub_domain() {
    const size_t start = pos_;
    bool last_was_hyphen = false;
    for (;;) {
      const int c = peek();
      if (c >= 0 && c < 0x80 && is_alnum(static_cast<unsigned char>(c))) {
        ++pos_;
        last_was_hyphen = false;
      } else if (c == '-' && pos_ > start) {
        ++pos_;
        last_was_hyphen = true;
      } else if (take_utf8()) {
        last_was_hyphen = false;
      } else {
        break;
      }
    }
    return pos_ > start && !last_was_hyphen && pos_ - start <= kMaxLabel;
  }

  // "[" ( IPv4-address-literal / "IPv6:" IPv6-addr / Standardized-tag ":" 1*dcontent ) "]"
  bool parse_address_literal() {
    take('[');
    const size_t start = pos_;
    while (peek() >= 33 && peek() <= 126 && peek() != '[' && peek() != ']' && peek() != '\\') {
      ++pos_;
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    if (!take(']')) return false;
    return valid_address_literal(literal);
  }

  static bool valid_address_literal(std::string_view literal) {
    const size_t colon = literal.find(':');
    if (colon == std::string_view::npos) return parses_as(AF_INET, literal);
    const std::string_view tag = literal.substr(0, colon);
    if (iequals(tag, "IPv6")) return parses_as(AF_INET6, literal.substr(colon + 1));
    if (tag.empty() || tag.back() == '-' || !is_alnum(static_cast<unsigned char>(tag[0]))) {
      return false;
    }
    for (const char c : tag) {
      if (!is_alnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    return colon + 1 < literal.size();
  }

  // inet_pton wants a terminated string; no address text is longer than 45 octets.
  static bool parses_as(int family, std::string_view text) {
    char buffer[64];
    if (text.empty() || text.size() >= sizeof buffer) return false;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    unsigned char address[16];
    return inet_pton(family, buffer, address) == 1;
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool non_ascii_ = false;
};

}  // namespace

PathError parse_path(std::string_view text, Path* out) {
  *out = Path{};
  return PathParser(text).parse(out);
}

}  // namespace postcore::smtp
