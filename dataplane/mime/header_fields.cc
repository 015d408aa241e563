#include "dataplane/mime/header_fields.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace postcore::mime {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_wsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_wsp(text.back())) text.remove_suffix(1);
  return text;
}

// RFC 2045 tspecials and RFC 5322 specials differ; each reader says which ends a token.
bool is_mime_special(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}
bool is_address_special(char c) {
  return std::string_view("()<>@,;:\\\".[]").find(c) != std::string_view::npos;
}

// A cursor over a field value that skips CFWS (RFC 5322 section 3.2.2).
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void advance() { ++pos_; }
  size_t pos() const { return pos_; }

  // Returns whether any white space or comment was skipped. The last comment's text is
  // remembered: a bare addr-spec's comment serves as its display name.
  bool skip_cfws() {
    const size_t before = pos_;
    while (!done()) {
      if (is_wsp(peek())) {
        ++pos_;
      } else if (peek() == '(') {
        skip_comment();
      } else {
        break;
      }
    }
    return pos_ != before;
  }

  std::string quoted_string() {
    std::string out;
    ++pos_;  // the opening quote
    while (!done() && peek() != '"') {
      if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
      // Folding inside quotes is unfolded already; a CR or LF left over is dropped.
      if (peek() != '\r' && peek() != '\n') out += peek();
      ++pos_;
    }
    if (!done()) ++pos_;
    return out;
  }

  // Up to white space or a special. Control octets and 8-bit text count as token text:
  // broken senders put them there, and dropping them would lose more than it fixes.
  template <typename Special>
  std::string_view token(Special special) {
    const size_t start = pos_;
    while (!done() && !is_wsp(peek()) && !special(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  const std::string& last_comment() const { return comment_; }
  void forget_comment() { comment_.clear(); }

 private:
  void skip_comment() {
    int depth = 0;
    std::string text;
    while (!done()) {
      char c = peek();
      ++pos_;
      if (c == '\\' && !done()) {
        text += peek();
        ++pos_;
        continue;
      }
      if (c == '(') {
        if (depth++ > 0) text += c;
      } else if (c == ')') {
        if (--depth == 0) break;
        text += c;
      } else {
        text += c;
      }
    }
    comment_ = std::string(trim(text));
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string comment_;
};

// One parameter value: a token or a quoted string; tolerant of unquoted junk up to ";".
std::string parameter_value(Scanner& in) {
  in.skip_cfws();
  if (in.peek() == '"') return in.quoted_string();
  return std::string(in.token([](char c) { return c == ';' || c == '"'; }));
}

bool is_attribute_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && !is_mime_special(static_cast<char>(c)) && c != '*' && c != '\'' &&
         c != '%';
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (is_attribute_char(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Joins RFC 2231 continuations (name*0, name*1*, ...): the result keeps "name*" and the
// charset'language' prefix when section 0, the only one that may carry them, is extended;
// plain sections are then percent-encoded to fit. Otherwise it is plain "name".
Parameters join_continuations(const Parameters& raw) {
  struct Section {
    std::string value;
    bool extended;
  };
  Parameters out;
  std::map<std::string, std::map<unsigned, Section>> continued;
  std::vector<std::string> order;
  for (const auto& [name, value] : raw) {
    const size_t star = name.find('*');
    unsigned number = 0;
    if (star != std::string::npos && star + 1 < name.size() && name[star + 1] != '*') {
      const char* first = name.data() + star + 1;
      const char* last = name.data() + name.size();
      if (last[-1] == '*') --last;
      auto [end, ec] = std::from_chars(first, last, number);
      if (ec == std::errc() && end == last && number < 10000) {
        const std::string base = name.substr(0, star);
        auto& sections = continued[base];
        if (sections.empty()) order.push_back(base);
        sections.emplace(number, Section{value, name.back() == '*'});
        continue;
      }
    }
    out.emplace_back(name, value);
  }
  for (const std::string& base : order) {
    const auto& sections = continued[base];
    bool extended = sections.begin()->second.extended;
    std::string joined;
    unsigned expected = 0;
    for (const auto& [number, section] : sections) {
      // A gap ends the value (RFC 2231 section 3: sections are numbered from 0 up).
      if (number != expected++) break;
      joined += extended && !section.extended ? percent_encode(section.value) : section.value;
    }
    out.emplace_back(extended ? base + "*" : base, std::move(joined));
  }
  return out;
}

}  // namespace

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_kept_field(std::string_view name, bool in_message_header) {
  if (name.starts_with("content-")) return true;
  if (!in_message_header) return false;
  static constexpr std::string_view kEnvelope[] = {"date",        "subject",   "from", "sender",
                                                   "reply-to",    "to",        "cc",   "bcc",
                                                   "in-reply-to", "message-id"};
  return std::find(std::begin(kEnvelope), std::end(kEnvelope), name) != std::end(kEnvelope);
}

Parameters parse_parameters(std::string_view text) {
  Scanner in(text);
  Parameters raw;
  while (!in.done()) {
    in.skip_cfws();
    if (in.peek() != ';') {
      // Junk between parameters: skip to the next ";".
      while (!in.done() && in.peek() != ';') {
        if (in.peek() == '"') {
          in.quoted_string();
        } else {
          in.advance();
        }
      }
      continue;
    }
    in.advance();
    in.skip_cfws();
    std::string name = lowercase(in.token([](char c) { return c == '=' || c == ';'; }));
    in.skip_cfws();
    if (in.peek() != '=' || name.empty()) continue;
    in.advance();
    std::string value = parameter_value(in);
    raw.emplace_back(std::move(name), std::move(value));
  }
  return join_continuations(raw);
}

namespace {

void parse_content_type(std::string_view value, ContentFields& out) {
  Scanner in(value);
  in.skip_cfws();
  std::string type = lowercase(in.token(is_mime_special));
  in.skip_cfws();
  std::string subtype;
  if (in.peek() == '/') {
    in.advance();
    in.skip_cfws();
    subtype = lowercase(in.token(is_mime_special));
  }
  const size_t semicolon = value.find(';', in.pos());
  // An unreadable type is as if there were none (RFC 2045 section 5.2), except that the
  // parameters still count (a charset, mostly).
  out.has_content_type = true;
  if (!type.empty() && !subtype.empty()) {
    out.type = std::move(type);
    out.subtype = std::move(subtype);
  }
  out.params = semicolon == std::string_view::npos ? Parameters{}
                                                   : parse_parameters(value.substr(semicolon));
}

void parse_disposition(std::string_view value, ContentFields& out) {
  Scanner in(value);
  in.skip_cfws();
  std::string type = lowercase(in.token(is_mime_special));
  if (type.empty()) return;
  out.disposition = std::move(type);
  const size_t semicolon = value.find(';', in.pos());
  if (semicolon != std::string_view::npos) {
    out.disposition_params = parse_parameters(value.substr(semicolon));
  }
}

void parse_languages(std::string_view value, std::vector<std::string>& out) {
  Scanner in(value);
  while (!in.done()) {
    in.skip_cfws();
    std::string_view tag = in.token(is_mime_special);
    if (!tag.empty()) {
      out.emplace_back(tag);
    } else if (!in.done()) {
      in.advance();
    }
  }
}

void set_once(std::optional<std::string>& field, std::string_view value) {
  if (!field) field = std::string(trim(value));
}

}  // namespace

void apply_content_field(std::string_view name, std::string_view value, ContentFields& out) {
  if (name == "content-type") {
    if (!out.has_content_type) parse_content_type(value, out);
  } else if (name == "content-transfer-encoding") {
    set_once(out.transfer_encoding, value);
  } else if (name == "content-id") {
    set_once(out.id, value);
  } else if (name == "content-description") {
    set_once(out.description, value);
  } else if (name == "content-md5") {
    set_once(out.md5, value);
  } else if (name == "content-location") {
    set_once(out.location, value);
  } else if (name == "content-disposition") {
    if (!out.disposition) parse_disposition(value, out);
  } else if (name == "content-language") {
    if (out.languages.empty()) parse_languages(value, out.languages);
  }
}

bool apply_envelope_field(std::string_view name, std::string_view value, size_t max_addresses,
                          Envelope& out) {
  // RFC 5322 allows each field once; where senders repeat one, Dovecot's answers are
  // followed: the last Date, Subject, In-Reply-To or Message-ID counts, and repeated
  // address fields add up (to max_addresses each).
  auto addresses = [&](std::optional<AddressList>& list) {
    AddressList parsed = parse_address_list(value);
    if (!list) list.emplace();
    for (Address& address : parsed) {
      if (list->size() >= max_addresses) return false;
      list->push_back(std::move(address));
    }
    return true;
  };
  auto replace = [&](std::optional<std::string>& field) {
    field = std::string(trim(value));
    return true;
  };
  static constexpr std::pair<std::string_view, std::optional<std::string> Envelope::*> kText[] = {
      {"date", &Envelope::date},
      {"subject", &Envelope::subject},
      {"in-reply-to", &Envelope::in_reply_to},
      {"message-id", &Envelope::message_id}};
  static constexpr std::pair<std::string_view, std::optional<AddressList> Envelope::*> kLists[] = {
      {"from", &Envelope::from}, {"sender", &Envelope::sender}, {"reply-to", &Envelope::reply_to},
      {"to", &Envelope::to},     {"cc", &Envelope::cc},         {"bcc", &Envelope::bcc}};
  for (const auto& [field, member] : kText) {
    if (name == field) return replace(out.*member);
  }
  for (const auto& [field, member] : kLists) {
    if (name == field) return addresses(out.*member);
  }
  return true;
}

namespace {

// Reads words (atoms, quoted strings, dots) up to a special that ends a phrase or a
// local part. Words keep the spacing they had: one space where the sender had any.
std::string read_words(Scanner& in, bool* any) {
  std::string out;
  *any = false;
  bool space = false;
  while (true) {
    space = in.skip_cfws() || space;
    const char c = in.peek();
    if (in.done() || c == '<' || c == '>' || c == ':' || c == ',' || c == ';' || c == '@' ||
        c == '[' || c == ']' || c == '(' || c == ')' || c == '\\') {
      break;
    }
    if (!out.empty() && space) out += ' ';
    space = false;
    *any = true;
    if (c == '"') {
      out += in.quoted_string();
    } else if (c == '.') {
      out += '.';
      in.advance();
    } else {
      out += in.token(is_address_special);
    }
  }
  return out;
}

std::string read_domain(Scanner& in) {
  in.skip_cfws();
  std::string out;
  if (in.peek() == '[') {
    while (!in.done() && in.peek() != ']') {
      if (!is_wsp(in.peek())) out += in.peek();
      in.advance();
    }
    if (!in.done()) {
      out += ']';
      in.advance();
    }
    return out;
  }
  bool any = false;
  out = read_words(in, &any);
  std::erase(out, ' ');
  return out;
}

void skip_to_next_address(Scanner& in) {
  while (!in.done() && in.peek() != ',' && in.peek() != ';') {
    if (in.peek() == '"') {
      in.quoted_string();
    } else {
      in.advance();
    }
  }
}

void finish_mailbox(Address& address) {
  if (address.mailbox.empty()) address.mailbox = "MISSING_MAILBOX";
  if (address.host.empty()) address.host = "MISSING_DOMAIN";
}

// "<" [route ":"] addr-spec ">", after the "<".
void read_angle_addr(Scanner& in, Address& address) {
  in.skip_cfws();
  if (in.peek() == '@') {
    // Obsolete source route: "@a,@b:" kept as sent for IMAP's adl.
    std::string route;
    while (!in.done() && in.peek() != ':' && in.peek() != '>') {
      if (!is_wsp(in.peek())) route += in.peek();
      in.advance();
    }
    if (in.peek() == ':') {
      in.advance();
      address.route = std::move(route);
    }
  }
  bool any = false;
  address.mailbox = read_words(in, &any);
  if (in.peek() == '@') {
    in.advance();
    address.host = read_domain(in);
  }
  while (!in.done() && in.peek() != '>') in.advance();
  if (!in.done()) in.advance();
}

// One mailbox or group; appends to out. Returns false at the end of a group (";").
void read_address(Scanner& in, AddressList& out, bool in_group) {
  in.forget_comment();
  bool any = false;
  std::string words = read_words(in, &any);
  const char c = in.peek();
  if (c == '<') {
    in.advance();
    Address address;
    address.name = std::move(words);
    read_angle_addr(in, address);
    finish_mailbox(address);
    out.push_back(std::move(address));
  } else if (c == ':' && !in_group) {
    in.advance();
    Address start;
    start.kind = Address::Kind::group_start;
    start.mailbox = std::move(words);
    out.push_back(std::move(start));
    while (true) {
      in.skip_cfws();
      if (in.done()) break;
      if (in.peek() == ';') {
        in.advance();
        break;
      }
      if (in.peek() == ',') {
        in.advance();
        continue;
      }
      const size_t before = in.pos();
      read_address(in, out, true);
      if (in.pos() == before) in.advance();
    }
    Address end;
    end.kind = Address::Kind::group_end;
    out.push_back(std::move(end));
  } else if (c == '@' || (any && (in.done() || c == ',' || c == ';'))) {
    Address address;
    address.mailbox = std::move(words);
    if (c == '@') {
      in.advance();
      address.host = read_domain(in);
      in.skip_cfws();
    }
    address.name = in.last_comment();
    finish_mailbox(address);
    out.push_back(std::move(address));
  }
  skip_to_next_address(in);
}

}  // namespace

AddressList parse_address_list(std::string_view value) {
  AddressList out;
  Scanner in(value);
  while (!in.done()) {
    in.skip_cfws();
    if (in.peek() == ',' || in.peek() == ';') {
      in.advance();
      continue;
    }
    const size_t before = in.pos();
    read_address(in, out, false);
    if (in.pos() == before) in.advance();
  }
  return out;
}

}  // namespace postcore::mime
