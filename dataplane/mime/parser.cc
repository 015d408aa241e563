#include "dataplane/mime/parser.h"

#include <algorithm>
#include <cstring>

#include "dataplane/mime/header_fields.h"

namespace postcore::mime {

// Saturating: a part cut short before its body has no lines.
void MimeParser::set_counts(Part& part, LineCount at_body_start, LineCount at_end) {
  part.body_lines = at_end.lf > at_body_start.lf ? at_end.lf - at_body_start.lf : 0;
  part.body_bare_lf =
      at_end.bare_lf > at_body_start.bare_lf ? at_end.bare_lf - at_body_start.bare_lf : 0;
}

MimeParser::MimeParser(ParserLimits limits) : limits_(limits) {
  result_.root.envelope.emplace();
  stack_.push_back(Frame{&result_.root, {}, true});
}

size_t MimeParser::line_keep() const {
  // A header line is kept whole (up to the field limit, plus room for the name); a body
  // line only as far as it could still be a boundary line: "--" boundary "--".
  if (mode_ == Mode::header) return limits_.max_field_bytes + 256;
  return longest_boundary_ == 0 ? 0 : longest_boundary_ + 4;
}

void MimeParser::feed(std::string_view input) {
  const char* p = input.data();
  const char* const end = p + input.size();
  while (p < end) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* content_end = lf != nullptr ? lf : end;
    const size_t length = static_cast<size_t>(content_end - p);
    const size_t keep = line_keep();
    if (line_.size() < keep) {
      const size_t take = std::min(length, keep - line_.size());
      line_.append(p, take);
      if (take < length) line_overflow_ = true;
    } else if (length > 0) {
      line_overflow_ = true;
    }
    if (length > 0) last_was_cr_ = content_end[-1] == '\r';
    offset_ += length;
    if (lf == nullptr) break;
    offset_ += 1;
    count_after_line_ = count_;
    ++count_after_line_.lf;
    if (!last_was_cr_) ++count_after_line_.bare_lf;
    end_line(line_start_, offset_, true);
    count_ = count_after_line_;
    p = lf + 1;
  }
}

void MimeParser::end_line(uint64_t line_start, uint64_t next_line_start, bool has_lf) {
  const bool crlf = has_lf && last_was_cr_ && next_line_start - line_start >= 2;
  // A CR that ends the line belongs to the line break; if the line was cut short, the
  // CR was not kept in the first place.
  if (crlf && !line_overflow_ && !line_.empty() && line_.back() == '\r') line_.pop_back();
  std::string_view line = line_;
  after_close_ = closed_line_;
  closed_line_ = false;
  if (!boundary_line(line, line_start, next_line_start)) {
    if (mode_ == Mode::header) header_line(line, next_line_start, has_lf);
  }
  line_.clear();
  line_overflow_ = false;
  last_was_cr_ = false;
  line_start_ = next_line_start;
  prev_break_ = has_lf ? (crlf ? 2 : 1) : 0;
}

void MimeParser::header_line(std::string_view line, uint64_t next_line_start, bool has_lf) {
  if (line.empty() && !line_overflow_) {
    end_header(next_line_start, has_lf ? count_after_line_ : count_);
    return;
  }
  if (line[0] == ' ' || line[0] == '\t') {
    if (field_kept_) append_field(line);
    return;
  }
  end_field();
  const size_t colon = line.find(':');
  // A line without a colon is no field; like other readers, keep going with the header.
  if (colon == std::string_view::npos) return;
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  field_name_ = lowercase(name);
  field_kept_ = is_kept_field(field_name_, stack_.back().is_message);
  if (field_kept_) {
    field_value_.clear();
    append_field(line.substr(colon + 1));
  }
}

void MimeParser::append_field(std::string_view text) {
  const size_t room =
      limits_.max_field_bytes - std::min(limits_.max_field_bytes, field_value_.size());
  if (text.size() > room || line_overflow_) result_.faults |= fault_header_truncated;
  field_value_.append(text.substr(0, room));
}

void MimeParser::end_field() {
  if (!field_kept_) return;
  field_kept_ = false;
  Part& part = *stack_.back().part;
  apply_content_field(field_name_, field_value_, part.content);
  if (part.envelope &&
      !apply_envelope_field(field_name_, field_value_, limits_.max_addresses, *part.envelope)) {
    result_.faults |= fault_header_truncated;
  }
}

void MimeParser::end_header_fields() {
  end_field();
  Part& part = *stack_.back().part;
  if (!part.content.has_content_type && digest_child_) {
    part.content.type = "message";
    part.content.subtype = "rfc822";
  }
  digest_child_ = false;
}

void MimeParser::end_header(uint64_t body_start, LineCount at_body_start) {
  end_header_fields();
  Frame& frame = stack_.back();
  Part& part = *frame.part;
  part.body_start = body_start;
  frame.at_body_start = at_body_start;
  mode_ = Mode::body;
  const bool deep = stack_.size() >= limits_.max_depth;
  if (part.is_multipart()) {
    const std::string* boundary = part.content.param("boundary");
    if (boundary == nullptr || boundary->empty() || boundary->size() > limits_.max_boundary) {
      result_.faults |= fault_missing_boundary;
    } else if (deep) {
      result_.faults |= fault_nesting_limit;
    } else {
      frame.boundary = *boundary;
      longest_boundary_ = std::max(longest_boundary_, boundary->size());
    }
  } else if (part.is_message_rfc822()) {
    // Even an encoded message/rfc822 body (not allowed, RFC 2046 section 5.2.1) is parsed
    // as it stands, as Dovecot does: BODYSTRUCTURE must give it an envelope and a body.
    if (deep) {
      result_.faults |= fault_nesting_limit;
    } else if (part_count_ < limits_.max_parts) {
      open_part(body_start, true);
      stack_.back().at_body_start = at_body_start;
    } else {
      result_.faults |= fault_part_limit;
    }
  }
}

bool MimeParser::boundary_line(std::string_view line, uint64_t line_start,
                               uint64_t next_line_start) {
  if (longest_boundary_ == 0 || line.size() < 3 || line[0] != '-' || line[1] != '-') return false;
  const std::string_view rest = line.substr(2);
  // Anything may follow the boundary (RFC 2046 allows only white space, senders add more).
  // Where boundaries share a prefix, the longest that matches is the one meant.
  size_t best = stack_.size();
  for (size_t i = stack_.size(); i-- > 0;) {
    const Frame& frame = stack_[i];
    if (frame.boundary.empty() || frame.in_epilogue) continue;
    if (!rest.starts_with(frame.boundary)) continue;
    if (best == stack_.size() || frame.boundary.size() > stack_[best].boundary.size()) best = i;
  }
  if (best == stack_.size()) return false;

  // The line break before the boundary line is part of the boundary (RFC 2046 5.1.1).
  uint64_t end = line_start - prev_break_;
  LineCount at_end = count_;
  if (prev_break_ > 0) --at_end.lf;
  if (prev_break_ == 1) --at_end.bare_lf;
  // A header cut short by the boundary ends before the line break, as a body would.
  const uint64_t header_end = end;
  if (after_close_ || mode_ == Mode::header) {
    // Right after a closing boundary line, or a header line, that line's break stays
    // with the parts it ends (Dovecot serves it so), not with this boundary.
    end = line_start;
    at_end = count_;
  }
  close_above(best, end, at_end, header_end);
  Frame& frame = stack_[best];
  const std::string_view after = rest.substr(frame.boundary.size());
  if (after.starts_with("--")) {
    frame.in_epilogue = true;
    closed_line_ = true;
    recompute_longest_boundary();
  } else if (part_count_ < limits_.max_parts) {
    digest_child_ = frame.part->content.subtype == "digest";
    open_part(next_line_start, false);
  } else {
    result_.faults |= fault_part_limit;
  }
  return true;
}

void MimeParser::close_above(size_t depth, uint64_t end, LineCount at_end, uint64_t header_end) {
  while (stack_.size() > depth + 1) {
    Frame& frame = stack_.back();
    Part& part = *frame.part;
    if (mode_ == Mode::header) {
      // The part ended inside its header: no body.
      end_header_fields();
      part.body_start = std::max(header_end, part.start);
      part.end = part.body_start;
      stack_.pop_back();
      mode_ = Mode::body;
      continue;
    }
    if (end < part.body_start) {
      // The empty line after the header was the line break before the boundary: a header
      // and no body (RFC 2046's body-part is headers [CRLF *OCTET]).
      part.body_start = std::max(end, part.start);
      frame.at_body_start = at_end;
    }
    if (!frame.boundary.empty() && !frame.in_epilogue) result_.faults |= fault_unterminated;
    part.end = std::max(end, part.body_start);
    set_counts(part, frame.at_body_start, at_end);
    stack_.pop_back();
  }
  mode_ = Mode::body;
  recompute_longest_boundary();
}

void MimeParser::open_part(uint64_t start, bool is_message) {
  Part& parent = *stack_.back().part;
  Part& part = parent.children.emplace_back();
  ++part_count_;
  part.start = start;
  if (is_message) part.envelope.emplace();
  stack_.push_back(Frame{&part, {}, is_message});
  mode_ = Mode::header;
  field_kept_ = false;
}

void MimeParser::recompute_longest_boundary() {
  longest_boundary_ = 0;
  for (const Frame& frame : stack_) {
    if (!frame.in_epilogue) longest_boundary_ = std::max(longest_boundary_, frame.boundary.size());
  }
}

ParsedMessage MimeParser::finish() {
  if (offset_ > line_start_) end_line(line_start_, offset_, false);
  if (mode_ == Mode::header) end_header(offset_, count_);
  // Close everything, the top message included.
  close_above(0, offset_, count_, offset_);
  const Frame& top = stack_.front();
  if (!top.boundary.empty() && !top.in_epilogue) result_.faults |= fault_unterminated;
  Part& root = result_.root;
  root.end = offset_;
  set_counts(root, top.at_body_start, count_);
  result_.size = offset_;
  return std::move(result_);
}

ParsedMessage parse_message(std::string_view message, ParserLimits limits) {
  MimeParser parser(limits);
  parser.feed(message);
  return parser.finish();
}

}  // namespace postcore::mime
