#include "queue/mailstore/mbox_reader.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "queue/mailstore/changes.h"

namespace postcore::mailstore {
namespace {

constexpr std::string_view kFrom = "From ";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads 1..max_digits digits at *p; false when there are none.
bool read_number(std::string_view s, size_t* p, size_t max_digits, int* out) {
  size_t start = *p;
  int value = 0;
  while (*p < s.size() && *p - start < max_digits && is_digit(s[*p]))
    value = value * 10 + (s[(*p)++] - '0');
  *out = value;
  return *p > start && (*p == s.size() || !is_digit(s[*p]));
}

bool skip_spaces(std::string_view s, size_t* p) {
  size_t start = *p;
  while (*p < s.size() && s[*p] == ' ') ++*p;
  return *p > start;
}

// Index of `s[*p..*p+3)` in `names` (twelve or seven three-letter names), or -1.
int read_name(std::string_view s, size_t* p, std::string_view names) {
  if (s.size() - *p < 3) return -1;
  for (size_t i = 0; i + 3 <= names.size(); i += 3)
    if (s.substr(*p, 3) == names.substr(i, 3)) {
      *p += 3;
      return static_cast<int>(i / 3);
    }
  return -1;
}

// "+hhmm" or "-hhmm" at *p, ended by a space or the end.
bool read_zone(std::string_view s, size_t* p, int* minutes) {
  if (s.size() - *p < 5 || (s[*p] != '+' && s[*p] != '-')) return false;
  for (size_t i = 1; i < 5; i++)
    if (!is_digit(s[*p + i])) return false;
  if (s.size() - *p > 5 && s[*p + 5] != ' ') return false;
  const int hours = (s[*p + 1] - '0') * 10 + (s[*p + 2] - '0');
  const int mins = (s[*p + 3] - '0') * 10 + (s[*p + 4] - '0');
  if (hours > 23 || mins > 59) return false;
  *minutes = (s[*p] == '-' ? -1 : 1) * (hours * 60 + mins);
  *p += 5;
  return true;
}

// The asctime date at the start of `s` (see mbox_reader.h); what follows it is free text.
bool parse_asctime(std::string_view s, int64_t* seconds, int* zone) {
  size_t p = 0;
  int day, hour, minute, second = 0, year;
  *zone = 0;
  if (read_name(s, &p, "SunMonTueWedThuFriSat") < 0 || !skip_spaces(s, &p)) return false;
  const int month = read_name(s, &p, "JanFebMarAprMayJunJulAugSepOctNovDec");
  if (month < 0 || !skip_spaces(s, &p)) return false;
  if (!read_number(s, &p, 2, &day) || !skip_spaces(s, &p)) return false;
  if (!read_number(s, &p, 2, &hour) || p == s.size() || s[p++] != ':') return false;
  if (!read_number(s, &p, 2, &minute)) return false;
  if (p < s.size() && s[p] == ':' && !read_number(s, &(++p), 2, &second)) return false;
  if (!skip_spaces(s, &p)) return false;
  if (read_zone(s, &p, zone) && !skip_spaces(s, &p)) return false;
  const size_t year_start = p;
  if (!read_number(s, &p, 4, &year) || p - year_start != 4) return false;
  if (p < s.size() && s[p] != ' ') return false;
  if (*zone == 0 && p < s.size()) {
    size_t q = p;
    skip_spaces(s, &q);
    read_zone(s, &q, zone);
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month + 1)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return false;
  const int64_t days = sys_days(date).time_since_epoch().count();
  *seconds = days * 86400 + hour * 3600 + minute * 60 + second - int64_t{*zone} * 60;
  return true;
}

// The From_ line `content` (without its line end) read into `m`; false when no asctime date
// follows "From " and a sender. The date is looked for at every word, so a sender with
// spaces in it (a quoted local part) still reads.
bool parse_from_line(std::string_view content, MboxMessage* m) {
  const std::string_view rest = content.substr(kFrom.size());
  for (size_t at = 0; at < rest.size(); at++) {
    if (at > 0 && rest[at - 1] != ' ') continue;
    int64_t seconds;
    int zone;
    if (!parse_asctime(rest.substr(at), &seconds, &zone)) continue;
    std::string_view sender = rest.substr(0, at);
    while (!sender.empty() && sender.back() == ' ') sender.remove_suffix(1);
    m->sender.assign(sender);
    m->internal_date = seconds;
    m->zone_minutes = static_cast<int16_t>(zone);
    return true;
  }
  const std::string_view sender = rest.substr(0, rest.find(' '));
  m->sender.assign(sender);
  return false;
}

bool equals_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void apply_field(std::string_view name, std::string_view value, MboxMessage* m) {
  if (equals_nocase(name, "Status")) {
    // O (old: not \Recent) has nothing to carry over: \Recent is never stored.
    if (value.find('R') != std::string_view::npos) m->flags |= flag_seen;
  } else if (equals_nocase(name, "X-Status")) {
    for (char c : value) {
      if (c == 'A') m->flags |= flag_answered;
      if (c == 'F') m->flags |= flag_flagged;
      if (c == 'T') m->flags |= flag_draft;
      if (c == 'D') m->flags |= flag_deleted;
    }
  } else if (equals_nocase(name, "X-Keywords")) {
    size_t p = 0;
    while (p < value.size()) {
      const size_t end = value.find_first_of(", \t\r\n", p);
      const std::string_view word = value.substr(p, end == value.npos ? value.npos : end - p);
      if (!word.empty() &&
          std::find(m->keywords.begin(), m->keywords.end(), word) == m->keywords.end())
        m->keywords.emplace_back(word);
      if (end == value.npos) break;
      p = end + 1;
    }
  } else if (equals_nocase(name, "X-UIDL") && m->uidl.empty()) {
    m->uidl.assign(trim(value));
  }
}

// Fields of a header block with CRLF line ends; a folded field is read as one, its line
// breaks turned into spaces.
void read_header_fields(std::string_view header, MboxMessage* m) {
  std::string value;
  std::string_view name;
  auto flush = [&] {
    if (!name.empty()) apply_field(name, value, m);
    name = {};
    value.clear();
  };
  while (!header.empty()) {
    const size_t crlf = header.find("\r\n");
    const std::string_view line = header.substr(0, crlf);
    header.remove_prefix(crlf == header.npos ? header.size() : crlf + 2);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (!name.empty()) value.append(" ").append(line);
      continue;
    }
    flush();
    const size_t colon = line.find(':');
    if (colon == line.npos) continue;
    name = trim(line.substr(0, colon));
    value.assign(line.substr(colon + 1));
  }
  flush();
}

}  // namespace

std::string_view describe(MboxProblemKind kind) {
  switch (kind) {
    case MboxProblemKind::skipped_before_first_message:
      return "the file does not start with a From_ line; text before the first one skipped";
    case MboxProblemKind::bad_from_date:
      return "the From_ line's date is unreadable";
    case MboxProblemKind::no_header_end:
      return "the message ends inside its header (no blank line after it)";
    case MboxProblemKind::header_too_long:
      return "header block too long; the rest of it was not read for flags";
    case MboxProblemKind::line_too_long:
      return "line too long";
    case MboxProblemKind::nul_octets:
      return "the message holds NUL octets";
    case MboxProblemKind::no_final_newline:
      return "the last line has no line end";
    case MboxProblemKind::empty_input:
      return "the file is empty";
    case MboxProblemKind::trailing_ctrl_z:
      return "a Ctrl-Z after the last line skipped";
  }
  return "unknown problem";
}

MboxReader::MboxReader(const MboxReaderOptions& options, MboxVisitor& visitor)
    : options_(options), visitor_(visitor) {
  // Room for a From_ line's "From " and a line end, so the line logic has something to see.
  options_.max_line = std::max<size_t>(options_.max_line, 8);
}

void MboxReader::feed(std::string_view chunk) {
  if (!chunk.empty()) any_input_ = true;
  while (!chunk.empty()) {
    const char* lf = static_cast<const char*>(std::memchr(chunk.data(), '\n', chunk.size()));
    const size_t upto = lf != nullptr ? static_cast<size_t>(lf - chunk.data()) + 1 : chunk.size();
    if (in_long_line_) {
      take_long_piece(chunk.substr(0, lf != nullptr ? upto - 1 : upto), lf != nullptr);
      chunk.remove_prefix(upto);
      continue;
    }
    const size_t room = options_.max_line - line_.size();
    if (lf != nullptr && upto <= room) {
      if (line_.empty()) {
        take_line(chunk.substr(0, upto));  // the common case: no copy
      } else {
        line_.append(chunk.substr(0, upto));
        take_line(line_);
        line_.clear();
      }
      chunk.remove_prefix(upto);
    } else if (lf == nullptr && upto < room) {
      line_.append(chunk);
      chunk = {};
    } else {
      // Over the limit even if the next octet ends it: the line goes on in pieces.
      line_.append(chunk.substr(0, room));
      chunk.remove_prefix(room);
      std::string start;
      start.swap(line_);
      start_long_line(start);
    }
  }
}

void MboxReader::finish() {
  if (line_ == "\x1a") {
    // A Ctrl-Z end-of-file mark left by old DOS and Windows tools: not part of any message.
    visitor_.problem({MboxProblemKind::trailing_ctrl_z, lines_ + 1, 1, 0});
    line_.clear();
  }
  if (in_long_line_) {
    visitor_.problem({MboxProblemKind::no_final_newline, lines_ + 1, 0, 0});
    take_long_piece({}, true, false);
  } else if (!line_.empty()) {
    visitor_.problem({MboxProblemKind::no_final_newline, lines_ + 1, 0, 0});
    line_.push_back('\n');
    std::string last;
    last.swap(line_);
    take_line(last);
  }
  if (!any_input_) visitor_.problem({MboxProblemKind::empty_input, 1, 0, 0});
  if (state_ == State::before_first) {
    if (skipped_octets_ > 0)
      visitor_.problem(
          {MboxProblemKind::skipped_before_first_message, 1, skipped_octets_, skipped_lines_});
  } else {
    end_message();
  }
  state_ = State::before_first;
  skipped_octets_ = 0;
}

void MboxReader::take_line(std::string_view line) {
  const uint64_t number = lines_ + 1;
  std::string_view content = line.substr(0, line.size() - 1);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  const bool blank = content.empty();
  const bool after_blank = lines_ == 0 || previous_blank_;
  lines_++;
  previous_blank_ = blank;

  if (content.substr(0, kFrom.size()) == kFrom) {
    MboxMessage probe;
    if (after_blank || parse_from_line(content, &probe)) {
      start_message(content);
      return;
    }
  }
  switch (state_) {
    case State::before_first:
      skipped_octets_ += line.size();
      skipped_lines_++;
      return;
    case State::header:
      count_nuls(content);
      if (blank) {
        end_header();
        state_ = State::body;
        blank_pending_ = true;
        return;
      }
      if (header_.size() + content.size() + 2 <= options_.max_header) {
        header_.append(content.substr(quote_length(content))).append("\r\n");
        return;
      }
      visitor_.problem({MboxProblemKind::header_too_long, number, 0, 0});
      end_header();
      state_ = State::body;
      break;
    case State::body:
      count_nuls(content);
      if (blank_pending_) emit("\r\n");
      blank_pending_ = blank;
      if (blank) return;
      break;
  }
  // A body line: one call when the input already ends it with CRLF.
  const size_t quote = quote_length(content);
  if (line.size() == content.size() + 2) {
    emit(line.substr(quote));
  } else {
    emit(content.substr(quote));
    emit("\r\n");
  }
}

void MboxReader::start_long_line(std::string_view start) {
  visitor_.problem({MboxProblemKind::line_too_long, lines_ + 1, 0, 0});
  in_long_line_ = true;
  long_line_cr_ = false;
  previous_blank_ = false;
  if (state_ == State::before_first) {
    skipped_lines_++;
    skipped_octets_ += start.size();
    return;
  }
  if (state_ == State::header) {
    visitor_.problem({MboxProblemKind::header_too_long, lines_ + 1, 0, 0});
    end_header();
    state_ = State::body;
  }
  if (blank_pending_) emit("\r\n");
  blank_pending_ = false;
  take_long_piece(start.substr(quote_length(start)), false);
}

// A piece of an over-long line, without its LF; a CR at a piece's end is held back until
// we know whether the LF follows it (CRLF passes on as it is, LF alone gains a CR).
void MboxReader::take_long_piece(std::string_view piece, bool line_ends, bool lf) {
  if (state_ == State::before_first) {
    skipped_octets_ += piece.size() + (line_ends && lf ? 1 : 0);
  } else {
    count_nuls(piece);
    if (line_ends && piece.empty()) {
      emit("\r\n");  // a CR held back, if any, was the CRLF's
    } else {
      if (long_line_cr_) emit("\r");
      const bool cr = piece.back() == '\r';
      if (line_ends) {
        emit(piece);
        emit(cr ? "\n" : "\r\n");
      } else {
        emit(cr ? piece.substr(0, piece.size() - 1) : piece);
        long_line_cr_ = cr;
      }
    }
  }
  if (line_ends) {
    in_long_line_ = false;
    long_line_cr_ = false;
    lines_++;
  }
}

void MboxReader::start_message(std::string_view from_line) {
  if (state_ == State::before_first) {
    if (skipped_octets_ > 0)
      visitor_.problem(
          {MboxProblemKind::skipped_before_first_message, 1, skipped_octets_, skipped_lines_});
    skipped_octets_ = 0;
  } else {
    end_message();
  }
  message_ = MboxMessage{};
  message_.line = lines_;
  if (!parse_from_line(from_line, &message_))
    visitor_.problem({MboxProblemKind::bad_from_date, message_.line, 0, 0});
  state_ = State::header;
  header_.clear();
  blank_pending_ = false;
  nuls_ = 0;
}

void MboxReader::end_message() {
  if (state_ == State::header) {
    visitor_.problem({MboxProblemKind::no_header_end, message_.line, 0, 0});
    end_header();
  }
  // A blank line still pending here is the separator (or the file's last line).
  blank_pending_ = false;
  if (nuls_ > 0) visitor_.problem({MboxProblemKind::nul_octets, first_nul_line_, nuls_, 0});
  visitor_.end();
}

void MboxReader::end_header() {
  read_header_fields(header_, &message_);
  visitor_.begin(message_);
  if (!header_.empty()) visitor_.data(header_);
  header_.clear();
}

void MboxReader::emit(std::string_view octets) {
  if (!octets.empty()) visitor_.data(octets);
}

size_t MboxReader::quote_length(std::string_view content) const {
  size_t quotes = 0;
  while (quotes < content.size() && content[quotes] == '>') quotes++;
  if (quotes == 0 || content.substr(quotes, kFrom.size()) != kFrom) return 0;
  return options_.mboxrd || quotes == 1 ? 1 : 0;
}

void MboxReader::count_nuls(std::string_view octets) {
  const size_t n = static_cast<size_t>(std::count(octets.begin(), octets.end(), '\0'));
  if (n > 0 && nuls_ == 0) first_nul_line_ = lines_ + (in_long_line_ ? 1 : 0);
  nuls_ += n;
}

}  // namespace postcore::mailstore
