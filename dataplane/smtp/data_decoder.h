// Decoder for the text after DATA's 354: finds the end of the message, undoes dot-stuffing,
// and checks line endings and line lengths, writing the message through a BodyWriter.
//
// The message ends at the exact octets CRLF "." CRLF, where the first CRLF may be the one
// that ended the DATA command. No other combination ends it (<LF>.<LF>, <CR>.<CR>,
// <LF>.<CR><LF>, <CR><LF>.<LF>, ...): a server that disagreed with the next hop about this
// would let a client smuggle a second message past it.
//
// It takes input in pieces of any size and never holds message bytes of its own except a
// "." or ".<CR>" at the start of a line that might be the end marker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/smtp/body_writer.h"

namespace postcore::smtp {

class DataDecoder {
 public:
  // max_line counts octets including the line ending. normalise: a bare CR or LF becomes
  // CRLF; otherwise it is a body_fault_bare_line_ending.
  void start(size_t max_line, bool normalise);

  // Returns how many octets of input it consumed: all of them, or up to and including the
  // LF of the end marker once it is found (the rest is the next command).
  size_t decode(std::string_view input, BodyWriter& out);

  bool done() const { return state_ == State::done; }

 private:
  enum class State : uint8_t {
    line_start,       // after CRLF (or at the start): a "." here may begin the end marker
    soft_line_start,  // after a bare CR or LF: a "." here is unstuffed but ends nothing
    middle,           // inside a line
    after_cr,         // the last octet was a CR inside a line (already passed on)
    dot,              // held: "." at line_start
    soft_dot,         // held: "." at soft_line_start
    dot_cr,           // held: "." CR at line_start
    done,
  };

  void end_line(BodyWriter& out) {
    if (line_length_ > max_line_) out.fault(body_fault_line_too_long);
    line_length_ = 0;
  }

  State state_ = State::line_start;
  size_t line_length_ = 0;  // octets of the current line seen so far, as sent
  size_t max_line_ = 0;
  bool normalise_ = false;
};

}  // namespace postcore::smtp
