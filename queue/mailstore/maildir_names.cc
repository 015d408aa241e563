#include "queue/mailstore/maildir_names.h"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "queue/mailstore/changes.h"

namespace postcore::mailstore {
namespace {

template <typename T>
bool parse_decimal(std::string_view text, T* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Walks the lines of a small text file (LF or CRLF), numbering them from 1.
class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  bool next(std::string_view* line) {
    if (rest_.empty()) return false;
    const size_t lf = rest_.find('\n');
    *line = rest_.substr(0, lf);
    rest_ = lf == std::string_view::npos ? std::string_view() : rest_.substr(lf + 1);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    number_++;
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view rest_;
  size_t number_ = 0;
};

Error at(std::string_view file, size_t line, size_t column, std::string_view what) {
  return make_error(EINVAL, fmt::format("{}:{}:{}: {}", file, line, column, what));
}

// The next space-separated word of `line` from `*pos`, with the column (from 1) it starts at.
std::string_view word(std::string_view line, size_t* pos, size_t* column) {
  while (*pos < line.size() && line[*pos] == ' ') ++*pos;
  *column = *pos + 1;
  const size_t end = std::min(line.find(' ', *pos), line.size());
  std::string_view w = line.substr(*pos, end - *pos);
  *pos = end;
  return w;
}

// The value of ",<key>=<digits>" in a base name.
std::optional<uint64_t> base_field(std::string_view base, std::string_view key) {
  const std::string marker = "," + std::string(key) + "=";
  const size_t at = base.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view digits = base.substr(at + marker.size());
  digits = digits.substr(0, std::min(digits.find(','), digits.size()));
  uint64_t value = 0;
  if (!parse_decimal(digits, &value)) return std::nullopt;
  return value;
}

}  // namespace

MaildirName parse_maildir_name(std::string_view name) {
  MaildirName out;
  size_t info = std::string_view::npos;
  for (char sep : {':', ';', '!'}) {
    const size_t at = name.rfind(std::string{sep} + "2,");
    if (at != std::string_view::npos && (info == std::string_view::npos || at > info)) info = at;
  }
  out.base = std::string(name.substr(0, info));
  out.size = base_field(out.base, "S");
  out.vsize = base_field(out.base, "W");
  if (info == std::string_view::npos) return out;
  std::string_view letters = name.substr(info + 3);
  letters = letters.substr(0, std::min(letters.find(','), letters.size()));
  for (char c : letters) {
    switch (c) {
      case 'D':
        out.flags |= flag_draft;
        break;
      case 'F':
        out.flags |= flag_flagged;
        break;
      case 'P':
        out.passed = true;
        break;
      case 'R':
        out.flags |= flag_answered;
        break;
      case 'S':
        out.flags |= flag_seen;
        break;
      case 'T':
        out.flags |= flag_deleted;
        break;
      default:
        if (c >= 'a' && c <= 'z') out.keywords.push_back(static_cast<uint8_t>(c - 'a'));
        break;  // other letters mean nothing to IMAP
    }
  }
  std::sort(out.keywords.begin(), out.keywords.end());
  out.keywords.erase(std::unique(out.keywords.begin(), out.keywords.end()), out.keywords.end());
  return out;
}

Result<std::vector<std::string>> parse_dovecot_keywords(std::string_view text,
                                                        std::string_view file_name) {
  std::vector<std::string> names;
  Lines lines(text);
  std::string_view line;
  while (lines.next(&line)) {
    if (line.empty()) continue;
    size_t pos = 0, column = 0;
    const std::string_view index_text = word(line, &pos, &column);
    unsigned index = 0;
    if (!parse_decimal(index_text, &index) || index > 25)
      return at(file_name, lines.number(), column, "expected a keyword index from 0 to 25");
    while (pos < line.size() && line[pos] == ' ') pos++;
    const std::string_view name = line.substr(pos);
    if (name.empty() || name.size() > kMaxKeyword)
      return at(file_name, lines.number(), pos + 1, "expected a keyword name");
    if (names.size() <= index) names.resize(index + 1);
    names[index] = std::string(name);
  }
  return names;
}

Result<Uidlist> parse_dovecot_uidlist(std::string_view text, std::string_view file_name) {
  Uidlist list;
  Lines lines(text);
  std::string_view line;
  if (!lines.next(&line)) return at(file_name, 1, 1, "empty: no header line");
  size_t pos = 0, column = 0;
  std::string_view w = word(line, &pos, &column);
  if (w == "1") {
    list.version = 1;  // "1 <uidvalidity> <uidnext>"
    w = word(line, &pos, &column);
    if (!parse_decimal(w, &list.uidvalidity)) return at(file_name, 1, column, "bad UIDVALIDITY");
    w = word(line, &pos, &column);
    if (!parse_decimal(w, &list.uidnext)) return at(file_name, 1, column, "bad next UID");
  } else if (w == "3") {
    list.version = 3;  // "3 V<uidvalidity> N<uidnext> G<guid> ...", any order, others ignored
    for (w = word(line, &pos, &column); !w.empty(); w = word(line, &pos, &column)) {
      if (w[0] == 'V' && !parse_decimal(w.substr(1), &list.uidvalidity))
        return at(file_name, 1, column, "bad UIDVALIDITY");
      if (w[0] == 'N' && !parse_decimal(w.substr(1), &list.uidnext))
        return at(file_name, 1, column, "bad next UID");
      if (w[0] == 'G') list.guid = std::string(w.substr(1));
    }
  } else {
    return at(file_name, 1, column, "unknown version (1 and 3 are read)");
  }
  if (list.uidvalidity == 0) return at(file_name, 1, 1, "no UIDVALIDITY");
  uint32_t last = 0;
  while (lines.next(&line)) {
    if (line.empty()) continue;
    UidlistEntry e;
    pos = 0;
    w = word(line, &pos, &column);
    if (!parse_decimal(w, &e.uid) || e.uid == 0) return at(file_name, lines.number(), 1, "bad UID");
    if (e.uid <= last)
      return at(file_name, lines.number(), 1,
                fmt::format("UID {} does not follow {}: UIDs must ascend", e.uid, last));
    last = e.uid;
    std::string_view name;
    if (list.version == 1) {
      while (pos < line.size() && line[pos] == ' ') pos++;
      column = pos + 1;
      name = line.substr(pos);
    } else {
      // Extension fields, then ':' and the file name (which may hold spaces and colons).
      const size_t colon = line.find(" :", pos);
      if (colon == std::string_view::npos)
        return at(file_name, lines.number(), line.find_first_not_of(' ', pos) + 1,
                  "expected ' :' and a file name");
      std::string_view fields = line.substr(0, colon);
      for (w = word(fields, &pos, &column); !w.empty(); w = word(fields, &pos, &column)) {
        const std::string_view value = w.substr(1);
        bool ok = true;
        switch (w[0]) {
          case 'P':
            e.pop3_uidl = std::string(value);
            break;
          case 'O':
            ok = parse_decimal(value, &e.pop3_order.emplace());
            break;
          case 'W':
            ok = parse_decimal(value, &e.vsize.emplace());
            break;
          case 'S':
            ok = parse_decimal(value, &e.size.emplace());
            break;
          case 'G':
            e.guid = std::string(value);
            break;
          default:
            break;  // a field this reader does not know
        }
        if (!ok) return at(file_name, lines.number(), column, "bad number in field");
      }
      column = colon + 3;
      name = line.substr(colon + 2);
    }
    if (name.empty()) return at(file_name, lines.number(), column, "expected a file name");
    e.base = parse_maildir_name(name).base;
    list.entries.push_back(std::move(e));
  }
  if (list.uidnext != 0 && last >= list.uidnext)
    return at(file_name, lines.number(), 1,
              fmt::format("UID {} is not below the next UID {}", last, list.uidnext));
  return list;
}

std::optional<std::string> uidl_of(const UidlistEntry& entry) {
  if (!entry.pop3_uidl) return std::nullopt;
  if (entry.pop3_uidl->empty()) return entry.base;
  return *entry.pop3_uidl;
}

}  // namespace postcore::mailstore
