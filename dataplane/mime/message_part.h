// What the MIME parser produces: a tree of parts with their offsets in the raw message,
// their Content-* fields and, for a message (the top one and every message/rfc822 body),
// the envelope fields. This is what the mailbox index keeps so that IMAP never parses a
// message twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postcore::mime {

// One entry of an address list in IMAP's ENVELOPE form (RFC 3501 section 7.4.2). A group
// is a group_start entry (mailbox = the group's name) then its members then group_end.
struct Address {
  enum class Kind : uint8_t { mailbox, group_start, group_end };
  Kind kind = Kind::mailbox;
  std::string name;   // the display name as sent (still RFC 2047 encoded); empty is NIL
  std::string route;  // obsolete source route ("@a,@b"); empty is NIL
  std::string mailbox;
  std::string host;
};

using AddressList = std::vector<Address>;

// The fields of RFC 3501's ENVELOPE, unfolded and trimmed but otherwise as sent. An
// absent field is nullopt; the renderer applies IMAP's defaults.
struct Envelope {
  std::optional<std::string> date, subject, in_reply_to, message_id;
  std::optional<AddressList> from, sender, reply_to, to, cc, bcc;
};

using Parameters = std::vector<std::pair<std::string, std::string>>;

struct ContentFields {
  // Lowercased; "text"/"plain" when there is no usable Content-Type (RFC 2045 section 5.2).
  std::string type = "text";
  std::string subtype = "plain";
  // Names lowercased, values unquoted. RFC 2231 continuations are joined; an extended
  // value keeps its "*" name and its charset'language'%XX form, as IMAP sends it (use
  // decode_rfc2231_value() for text).
  Parameters params;
  bool has_content_type = false;
  std::optional<std::string> id, description, transfer_encoding, md5, location;
  std::optional<std::string> disposition;  // lowercased
  Parameters disposition_params;
  std::vector<std::string> languages;

  const std::string* param(std::string_view name) const;
};

struct Part {
  // Offsets into the raw message. [start, body_start) is the header, including the empty
  // line that ends it; [body_start, end) the body. A multipart child's end is before the
  // line break that precedes the next boundary line, which belongs to the boundary.
  uint64_t start = 0;
  uint64_t body_start = 0;
  uint64_t end = 0;
  uint64_t body_lines = 0;    // line feeds in the body
  uint64_t body_bare_lf = 0;  // of which without a CR before them
  ContentFields content;
  // Set for the top message and for the embedded message of a message/rfc822 part.
  std::optional<Envelope> envelope;
  // A multipart's parts; or, for a message/rfc822 part, one child: the embedded message,
  // whose own header is [start, body_start).
  std::vector<Part> children;
  bool is_multipart() const { return content.type == "multipart"; }
  bool is_message_rfc822() const;
  uint64_t body_octets() const { return end - body_start; }
  // The body's size as IMAP reports and serves it: with every line break a CRLF.
  uint64_t body_crlf_octets() const { return body_octets() + body_bare_lf; }
};

// Why the tree may not show every part the sender meant.
enum ParseFault : uint32_t {
  fault_none = 0,
  fault_nesting_limit = 1u << 0,     // a multipart or message below max_depth kept as a leaf
  fault_part_limit = 1u << 1,        // parts after max_parts folded into their neighbours
  fault_header_truncated = 1u << 2,  // a field over max_field_bytes, a list over max_addresses
  fault_missing_boundary = 1u << 3,  // a multipart without a usable boundary parameter
  fault_unterminated = 1u << 4,      // a multipart that never saw its closing boundary
};

struct ParsedMessage {
  Part root;
  uint64_t size = 0;  // octets fed
  uint32_t faults = fault_none;
};

// Octet ranges for an IMAP FETCH BODY[section...] (RFC 3501 section 6.4.5). Section is
// the part numbers ("" for the whole message, "1.2" ...). nullopt when no such part.
struct Range {
  uint64_t begin = 0, end = 0;
  bool operator==(const Range&) const = default;
};
enum class SectionText : uint8_t { body, mime, header, text };
std::optional<Range> section_range(const Part& root, std::string_view section, SectionText what);

}  // namespace postcore::mime
