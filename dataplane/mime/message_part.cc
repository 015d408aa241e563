#include "dataplane/mime/message_part.h"

#include <charconv>

namespace postcore::mime {

const std::string* ContentFields::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool Part::is_message_rfc822() const {
  return content.type == "message" && content.subtype == "rfc822";
}

std::optional<Range> section_range(const Part& root, std::string_view section, SectionText what) {
  if (section.empty()) {
    switch (what) {
      case SectionText::body:
        return Range{root.start, root.end};
      case SectionText::header:
        return Range{root.start, root.body_start};
      case SectionText::text:
        return Range{root.body_start, root.end};
      case SectionText::mime:
        return std::nullopt;
    }
  }
  // Part numbers name the parts of a message (RFC 3501 section 6.4.5): a multipart's
  // children, or the body itself when the message is not multipart; after a
  // message/rfc822 part, the numbers go on inside its embedded message. Like Dovecot, a
  // leaf part's part 1 is itself, as a single-part message's is.
  const Part* current = &root;
  bool first = true;
  while (!section.empty()) {
    const size_t dot = section.find('.');
    const std::string_view digits = section.substr(0, dot);
    section = dot == std::string_view::npos ? std::string_view() : section.substr(dot + 1);
    size_t number = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec != std::errc() || end != digits.data() + digits.size() || number == 0) {
      return std::nullopt;
    }
    const Part* container = current;
    if (!first) {
      if (current->is_message_rfc822() && !current->children.empty()) {
        container = &current->children.front();
      }
    }
    first = false;
    if (container->is_multipart()) {
      if (number > container->children.size()) return std::nullopt;
      current = &container->children[number - 1];
    } else {
      if (number != 1) return std::nullopt;
      current = container;
    }
  }
  switch (what) {
    case SectionText::body:
      return Range{current->body_start, current->end};
    case SectionText::mime:
      return Range{current->start, current->body_start};
    case SectionText::header:
    case SectionText::text:
      if (!current->is_message_rfc822() || current->children.empty()) return std::nullopt;
      {
        const Part& message = current->children.front();
        if (what == SectionText::header) return Range{message.start, message.body_start};
        return Range{message.body_start, message.end};
      }
  }
  return std::nullopt;
}

}  // namespace postcore::mime
