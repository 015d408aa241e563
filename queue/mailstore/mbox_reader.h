// MboxReader: splits an mbox file, fed in pieces of any size, into messages and their
// metadata, for `postcorectl import mbox`. Sans-IO: it reads no file and keeps no message;
// a message is handed on as begin(meta), data(octets)..., end() while it streams past, so
// a 10 GB file or a 2 GB message costs only the current line (up to max_line) and the
// message's header block (up to max_header).
//
// What starts a message (a From_ line):
//  * a line beginning "From " that is the file's first line or follows a blank line (the
//    mboxo/mboxrd rule), whatever else it holds;
//  * a line beginning "From " anywhere else only when it reads "From " [sender] asctime
//    date: `Www Mmm d[d] hh:mm[:ss] yyyy` (day and month names spelt as asctime does,
//    "Sat", "Jan"; any number of spaces between fields; a four-digit year; an optional
//    `+hhmm`/`-hhmm` zone just before or after the year; then a space or the line's end,
//    anything after that ignored). Writers that forget the blank line still split; a body
//    line such as "From here on..." does not. The date is read in the same way for
//    INTERNALDATE: UTC unless such a zone is given.
//  * A line longer than max_line is never a From_ line.
//
// The blank line before a From_ line belongs to the separator, not to the message before
// it, as mbox writers add it; so does the blank line at the very end of the file.
//
// Messages come out as SMTP delivers them: every line ends in CRLF (LF becomes CRLF, CRLF
// is kept, a bare CR inside a line is left alone), and quoted From lines are unquoted:
// mboxrd (the default) drops one '>' from any line matching ^>+From ; mboxo only turns
// ">From " into "From ". Headers such as Status: stay in the message.
//
// Nothing is dropped without a word: text before the first From_ line is skipped and
// reported with its size, and every oddity (a bad From_ date, a header with no end, NUL
// octets, a last line without a newline, an over-long line or header, an empty file) is
// reported with the line it is on. A last line holding only Ctrl-Z (0x1A), an end-of-file
// mark of old DOS and Windows tools, is skipped and reported too.
//
// Trust: none; any octets are accepted and never crash it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postcore::mailstore {

struct MboxReaderOptions {
  // Octets of one line, its line end included, held at most; a longer line is passed on
  // in pieces (and is reported). 64 KiB is far beyond RFC 5322's 998 but cheap to hold.
  size_t max_line = 64 * 1024;
  // Octets of a message's header block held while looking for Status:, X-Status:,
  // X-Keywords: and X-UIDL:; past it the header is passed on and not inspected further.
  size_t max_header = 256 * 1024;
  // true: mboxrd unquoting (^>+From loses one '>'); false: mboxo (only ">From ").
  bool mboxrd = true;
};

// What the mbox says about a message besides its octets.
struct MboxMessage {
  uint64_t line = 0;   // 1-based line of its From_ line in the file
  std::string sender;  // the From_ line's envelope sender, as written
  // INTERNALDATE from the From_ line's date (seconds since the epoch) and its zone (minutes
  // east of UTC; 0 when the line names none); unset when the date could not be read.
  std::optional<int64_t> internal_date;
  int16_t zone_minutes = 0;
  uint8_t flags = 0;                  // SystemFlag bits (changes.h) from Status:/X-Status:
  std::vector<std::string> keywords;  // from X-Keywords:, in order, without repeats
  std::string uidl;                   // from X-UIDL:, trimmed; empty when there is none
};

enum class MboxProblemKind {
  skipped_before_first_message,  // the file does not start with a From_ line: text skipped
  bad_from_date,                 // a From_ line whose date is unreadable: no INTERNALDATE
  no_header_end,                 // the message ended inside its header (no blank line)
  header_too_long,               // over max_header: the rest of the header was not inspected
  line_too_long,                 // over max_line: passed on in pieces, never a From_ line
  nul_octets,                    // the message holds NUL octets (kept as they are)
  no_final_newline,              // the file's last line has no line end (CRLF added)
  empty_input,                   // no octets at all
  trailing_ctrl_z,               // a last line of just Ctrl-Z (0x1A), skipped (octets: 1)
};

struct MboxProblem {
  MboxProblemKind kind;
  uint64_t line = 0;    // 1-based line where it is (or begins)
  uint64_t octets = 0;  // skipped_before_first_message: octets skipped; nul_octets: NULs
  uint64_t lines = 0;   // skipped_before_first_message: lines skipped (a partial one counts)
};

std::string_view describe(MboxProblemKind kind);

class MboxVisitor {
 public:
  virtual ~MboxVisitor() = default;
  virtual void begin(const MboxMessage& message) = 0;
  virtual void data(std::string_view octets) = 0;
  virtual void end() = 0;
  virtual void problem(const MboxProblem& problem) = 0;
};

class MboxReader {
 public:
  MboxReader(const MboxReaderOptions& options, MboxVisitor& visitor);

  void feed(std::string_view chunk);
  // The end of the file: ends the last message. Call once, after the last feed().
  void finish();

  // Octets held between calls (the current line and the header block being inspected).
  size_t held_octets() const { return line_.size() + header_.size(); }

 private:
  enum class State : uint8_t { before_first, header, body };

  void take_line(std::string_view line);  // a whole line, with its LF
  void start_long_line(std::string_view start);
  void take_long_piece(std::string_view piece, bool line_ends, bool lf = true);
  void start_message(std::string_view from_line);
  void end_message();
  void end_header();
  void emit(std::string_view octets);
  size_t quote_length(std::string_view content) const;
  void count_nuls(std::string_view octets);

  MboxReaderOptions options_;
  MboxVisitor& visitor_;
  State state_ = State::before_first;
  std::string line_;    // the start of a line not yet ended, under max_line
  std::string header_;  // the header block being inspected, CRLF line ends, unquoted
  MboxMessage message_;
  uint64_t lines_ = 0;           // lines ended so far
  bool previous_blank_ = false;  // the last line ended was blank
  bool blank_pending_ = false;   // body: a blank line held until we know it is no separator
  bool in_long_line_ = false;    // passing a line over max_line on in pieces
  bool long_line_cr_ = false;    // ... whose last piece ended in a CR, held back
  bool any_input_ = false;
  uint64_t skipped_octets_ = 0;  // before the first From_ line
  uint64_t skipped_lines_ = 0;
  uint64_t nuls_ = 0;  // in the current message
  uint64_t first_nul_line_ = 0;
};

}  // namespace postcore::mailstore
