#include "dataplane/smtp/chunk_decoder.h"

#include <cstring>

namespace postcore::smtp {

void ChunkDecoder::start(bool check_line_endings, bool normalise) {
  check_line_endings_ = check_line_endings;
  normalise_ = normalise;
  cr_pending_ = false;
}

void ChunkDecoder::decode(std::string_view input, BodyWriter& out) {
  if (!check_line_endings_ || input.empty()) {
    out.write(input);
    return;
  }
  const char* const end = input.data() + input.size();
  const char* p = input.data();
  const char* span = p;
  auto flush = [&](const char* upto) {
    if (upto > span) out.write(std::string_view(span, static_cast<size_t>(upto - span)));
    span = upto;
  };

  if (cr_pending_) {
    cr_pending_ = false;
    if (*p == '\n') {
      ++p;
    } else if (normalise_) {
      out.write("\n");
    } else {
      bare_line_ending(out);
    }
  }
  // As in DataDecoder, the next LF is searched once and reused for every CR before it.
  const char* next_lf = nullptr;
  while (p < end) {
    if (next_lf == nullptr || next_lf < p) {
      next_lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (next_lf == nullptr) next_lf = end;
    }
    const char* cr =
        static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(next_lf - p)));
    if (cr != nullptr) {
      if (cr + 1 == end) {
        cr_pending_ = true;
        p = end;
      } else if (cr[1] == '\n') {
        p = cr + 2;
      } else {
        p = cr + 1;
        if (normalise_) {
          flush(p);
          out.write("\n");
        } else {
          bare_line_ending(out);
        }
      }
      continue;
    }
    if (next_lf == end) {
      p = end;
      break;
    }
    // An LF with no CR before it.
    if (normalise_) {
      flush(next_lf);
      out.write("\r");
    } else {
      bare_line_ending(out);
    }
    p = next_lf + 1;
  }
  flush(end);
}

void ChunkDecoder::finish(BodyWriter& out) {
  if (!cr_pending_) return;
  cr_pending_ = false;
  if (normalise_) {
    out.write("\n");
  } else {
    bare_line_ending(out);
  }
}

void ChunkDecoder::bare_line_ending(BodyWriter& out) {
  out.fault(body_fault_bare_line_ending);
}

}  // namespace postcore::smtp
