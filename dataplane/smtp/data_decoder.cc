#include "dataplane/smtp/data_decoder.h"

#include <cstring>

namespace postcore::smtp {

void DataDecoder::start(size_t max_line, bool normalise) {
  state_ = State::line_start;
  line_length_ = 0;
  max_line_ = max_line;
  normalise_ = normalise;
}

// Bytes are passed on as spans of the input ([span, p)), so the common case is one host
// call per input piece; a span is cut only where a byte is dropped (a stuffed dot, a held
// end-marker candidate) or inserted (normalising a bare CR or LF).
size_t DataDecoder::decode(std::string_view input, BodyWriter& out) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
  const char* span = begin;
  // The next LF at or after p, found once per input piece and reused for every line it
  // covers, so input full of bare CRs cannot make the scan quadratic.
  const char* next_lf = nullptr;
  auto flush = [&](const char* upto) {
    if (upto > span) out.write(std::string_view(span, static_cast<size_t>(upto - span)));
    span = upto;
  };

  while (p < end && state_ != State::done) {
    switch (state_) {
      case State::line_start:
        if (*p == '.') {
          flush(p);
          span = ++p;
          state_ = State::dot;
          line_length_ = 1;
          break;
        }
        state_ = State::middle;
        break;

      case State::soft_line_start:
        if (*p == '.') {
          flush(p);
          span = ++p;
          state_ = State::soft_dot;
          line_length_ = 1;
          break;
        }
        state_ = State::middle;
        break;

      case State::middle: {
        if (next_lf == nullptr || next_lf < p) {
          next_lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
          if (next_lf == nullptr) next_lf = end;
        }
        const char* cr =
            static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(next_lf - p)));
        const char* line_break = cr != nullptr ? cr : next_lf;
        if (line_break == end) {
          line_length_ += static_cast<size_t>(end - p);
          // Any line ending adds at least one octet, so the line is already too long.
          if (line_length_ >= max_line_) out.fault(body_fault_line_too_long);
          p = end;
          break;
        }
        line_length_ += static_cast<size_t>(line_break - p) + 1;
        p = line_break + 1;
        if (*line_break == '\r') {
          state_ = State::after_cr;
          break;
        }
        end_line(out);
        if (normalise_) {
          flush(line_break);
          out.write("\r");
        } else {
          out.fault(body_fault_bare_line_ending);
        }
        state_ = State::soft_line_start;
        break;
      }

      case State::after_cr:
        if (*p == '\n') {
          ++p;
          ++line_length_;
          end_line(out);
          state_ = State::line_start;
          break;
        }
        end_line(out);
        if (normalise_) {
          flush(p);
          out.write("\n");
        } else {
          out.fault(body_fault_bare_line_ending);
        }
        state_ = State::soft_line_start;
        break;

      case State::dot:
        if (*p == '\r') {
          span = ++p;
          line_length_ = 2;
          state_ = State::dot_cr;
          break;
        }
        // A lone "." ended by a bare LF is kept; any other octet means the dot was stuffed.
        if (*p == '\n') out.write(".");
        state_ = State::middle;
        break;

      case State::soft_dot:
        if (*p == '\r' || *p == '\n') out.write(".");
        state_ = State::middle;
        break;

      case State::dot_cr:
        if (*p == '\n') {
          span = ++p;
          state_ = State::done;
          break;
        }
        // "." then a bare CR: an ordinary line holding a dot; after_cr judges the CR.
        out.write(".\r");
        state_ = State::after_cr;
        break;

      case State::done:
        break;
    }
  }
  flush(p);
  return static_cast<size_t>(p - begin);
}

}  // namespace postcore::smtp
