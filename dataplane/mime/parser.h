// Streaming MIME parser (RFC 5322, RFC 2045-2049) for the mailbox store, which parses each
// message once, at delivery, and keeps the tree in its index.
//
// Sans-IO: it is fed the raw message in pieces of any size and keeps only what the tree
// needs (header fields it reports, each bounded) plus the first octets of the current line
// (to recognise a boundary), so a 50 MB attachment costs no memory. Any split of the input
// gives the same tree. Malformed input never fails: it gives the tree a tolerant reader
// (Dovecot) would, and ParsedMessage::faults says what was cut short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/mime/message_part.h"

namespace postcore::mime {

struct ParserLimits {
  // Multiparts and message/rfc822 bodies nested deeper than this are kept as leaves.
  size_t max_depth = 100;
  // Parts beyond this many are not created; their octets stay in the enclosing body.
  size_t max_parts = 10000;
  // A kept header field (Content-*, envelope fields) is cut at this many octets; the rest
  // of the line is still read, just not kept.
  size_t max_field_bytes = 64 * 1024;
  // Addresses kept per envelope list (From, To, ...), over all fields of that name.
  size_t max_addresses = 10000;
  // RFC 2046 allows 70; longer boundary parameters are treated as missing.
  size_t max_boundary = 200;
};

class MimeParser {
 public:
  explicit MimeParser(ParserLimits limits = {});

  void feed(std::string_view input);
  // Ends the message: open parts end at the last octet. The parser is spent afterwards.
  ParsedMessage finish();

  // Message octets held right now (line start, header field): bounded by the limits,
  // never by body size.
  size_t held_octets() const { return line_.size() + field_value_.size(); }

 private:
  enum class Mode : uint8_t { header, body };

  // Line feeds fed so far, and how many of them had no CR before them.
  struct LineCount {
    uint64_t lf = 0;
    uint64_t bare_lf = 0;
  };

  struct Frame {
    Part* part;
    std::string boundary;  // empty unless this part is a multipart whose parts are parsed
    bool is_message;       // collects envelope fields
    bool in_epilogue = false;
    bool seen_first_boundary = false;
    LineCount at_body_start;
  };

  void end_line(uint64_t line_start, uint64_t next_line_start, bool has_lf);
  void header_line(std::string_view line, uint64_t next_line_start, bool has_lf);
  void append_field(std::string_view text);
  void end_field();
  void end_header_fields();
  void end_header(uint64_t body_start, LineCount at_body_start);
  bool boundary_line(std::string_view line, uint64_t line_start, uint64_t next_line_start);
  void close_above(size_t depth, uint64_t end, LineCount at_end, uint64_t header_end);
  void open_part(uint64_t start, bool is_message);
  void recompute_longest_boundary();
  static void set_counts(Part& part, LineCount at_body_start, LineCount at_end);
  size_t line_keep() const;

  ParserLimits limits_;
  ParsedMessage result_;
  std::vector<Frame> stack_;
  Mode mode_ = Mode::header;
  size_t part_count_ = 1;
  size_t longest_boundary_ = 0;  // of the boundaries a line may still match

  uint64_t offset_ = 0;         // octets fed so far
  uint64_t line_start_ = 0;     // offset of the current line's first octet
  LineCount count_;             // up to the current line's break
  std::string line_;            // the current line's first octets, at most line_keep()
  bool line_overflow_ = false;  // the current line is longer than line_
  bool last_was_cr_ = false;
  // The line break before the current line: its length, 0 at the start of the message.
  uint8_t prev_break_ = 0;
  LineCount count_after_line_;  // count_ with the current line's break, once it is seen
  bool closed_line_ = false;    // the current line is a closing boundary
  bool after_close_ = false;    // the line before the current one was a closing boundary

  // The header field being unfolded, when it is one the tree keeps.
  std::string field_name_;
  std::string field_value_;
  bool field_kept_ = false;
  bool digest_child_ = false;  // the part being parsed is in a multipart/digest
};

// Parses a whole message held in memory.
ParsedMessage parse_message(std::string_view message, ParserLimits limits = {});

}  // namespace postcore::mime
