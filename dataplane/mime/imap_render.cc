#include "dataplane/mime/imap_render.h"

#include <fmt/format.h>

#include <algorithm>

#include "dataplane/mime/header_fields.h"

namespace postcore::mime {

void append_imap_string(std::string& out, std::string_view text) {
  bool literal = false;
  for (unsigned char c : text) {
    if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80) {
      literal = true;
      break;
    }
  }
  if (literal) {
    // NUL may not be sent at all; like Dovecot, it becomes U+FFFD.
    const size_t nuls = static_cast<size_t>(std::count(text.begin(), text.end(), '\0'));
    fmt::format_to(std::back_inserter(out), "{{{}}}\r\n", text.size() + 2 * nuls);
    for (char c : text) {
      if (c == '\0') {
        out += "\xef\xbf\xbd";
      } else {
        out += c;
      }
    }
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

namespace {

// Text a person reads (Subject, display names), as Dovecot sends it: tabs and line breaks
// are spaces, runs of white space one space, none at either end.
std::string for_humans(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

void append_nstring(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    append_imap_string(out, *text);
  } else {
    out += "NIL";
  }
}

void append_nonempty(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "NIL";
  } else {
    append_imap_string(out, text);
  }
}

void append_addresses(std::string& out, const std::optional<AddressList>& list) {
  if (!list || list->empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const Address& address : *list) {
    switch (address.kind) {
      case Address::Kind::mailbox:
        out += '(';
        append_nonempty(out, for_humans(address.name));
        out += ' ';
        append_nonempty(out, address.route);
        out += ' ';
        append_imap_string(out, address.mailbox);
        out += ' ';
        append_imap_string(out, address.host);
        out += ')';
        break;
      case Address::Kind::group_start:
        out += "(NIL NIL ";
        append_imap_string(out, address.mailbox);
        out += " NIL)";
        break;
      case Address::Kind::group_end:
        out += "(NIL NIL NIL NIL)";
        break;
    }
  }
  out += ')';
}

void append_params(std::string& out, const Parameters& params) {
  if (params.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out += ' ';
    first = false;
    append_imap_string(out, name);
    out += ' ';
    append_imap_string(out, value);
  }
  out += ')';
}

// body-ext-1part / body-ext-mpart after the MD5 or the parameters: disposition,
// language, location.
void append_disposition_language_location(std::string& out, const ContentFields& content) {
  out += ' ';
  if (content.disposition) {
    out += '(';
    append_imap_string(out, *content.disposition);
    out += ' ';
    append_params(out, content.disposition_params);
    out += ')';
  } else {
    out += "NIL";
  }
  out += ' ';
  if (content.languages.empty()) {
    out += "NIL";
  } else if (content.languages.size() == 1) {
    append_imap_string(out, content.languages.front());
  } else {
    out += '(';
    for (size_t i = 0; i < content.languages.size(); ++i) {
      if (i > 0) out += ' ';
      append_imap_string(out, content.languages[i]);
    }
    out += ')';
  }
  out += ' ';
  append_nstring(out, content.location);
}

void append_body(std::string& out, const Part& part, bool extension_data);

void append_envelope(std::string& out, const Envelope& envelope) {
  out += '(';
  append_nstring(out, envelope.date);
  out += ' ';
  if (envelope.subject) {
    append_imap_string(out, for_humans(*envelope.subject));
  } else {
    out += "NIL";
  }
  out += ' ';
  append_addresses(out, envelope.from);
  // RFC 3501: an absent or empty Sender or Reply-To is the From.
  out += ' ';
  const bool no_sender = !envelope.sender || envelope.sender->empty();
  append_addresses(out, no_sender ? envelope.from : envelope.sender);
  out += ' ';
  const bool no_reply_to = !envelope.reply_to || envelope.reply_to->empty();
  append_addresses(out, no_reply_to ? envelope.from : envelope.reply_to);
  for (const auto* list : {&envelope.to, &envelope.cc, &envelope.bcc}) {
    out += ' ';
    append_addresses(out, *list);
  }
  out += ' ';
  append_nstring(out, envelope.in_reply_to);
  out += ' ';
  append_nstring(out, envelope.message_id);
  out += ')';
}

void append_empty_body(std::string& out, bool extension_data) {
  out += R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)";
  out += extension_data ? " NIL NIL NIL NIL)" : ")";
}

void append_multipart(std::string& out, const Part& part, bool extension_data) {
  out += '(';
  // IMAP has no multipart without parts (one whose boundary never came); like Dovecot,
  // send one empty text part.
  if (part.children.empty()) append_empty_body(out, extension_data);
  for (const Part& child : part.children) append_body(out, child, extension_data);
  out += ' ';
  append_imap_string(out, part.content.subtype);
  if (extension_data) {
    out += ' ';
    append_params(out, part.content.params);
    append_disposition_language_location(out, part.content);
  }
  out += ')';
}

void append_body(std::string& out, const Part& part, bool extension_data) {
  const ContentFields& content = part.content;
  if (part.is_multipart()) {
    append_multipart(out, part, extension_data);
    return;
  }
  out += '(';
  append_imap_string(out, content.type);
  out += ' ';
  append_imap_string(out, content.subtype);
  out += ' ';
  if (content.type == "text" && content.param("charset") == nullptr) {
    // RFC 2045 section 5.2's default, said out loud as Dovecot does.
    Parameters params = content.params;
    params.emplace_back("charset", "us-ascii");
    append_params(out, params);
  } else {
    append_params(out, content.params);
  }
  out += ' ';
  append_nstring(out, content.id);
  out += ' ';
  append_nstring(out, content.description);
  out += ' ';
  if (content.transfer_encoding) {
    append_imap_string(out, *content.transfer_encoding);
  } else {
    out += "\"7bit\"";
  }
  fmt::format_to(std::back_inserter(out), " {}", part.body_crlf_octets());
  if (part.is_message_rfc822()) {
    // The syntax needs an envelope and a body even where the embedded message was not
    // parsed (past max_depth or max_parts): all NIL and an empty text part then.
    out += ' ';
    if (part.children.empty()) {
      append_envelope(out, Envelope{});
      out += ' ';
      append_empty_body(out, extension_data);
    } else {
      const Part& message = part.children.front();
      append_envelope(out, message.envelope.value_or(Envelope{}));
      out += ' ';
      append_body(out, message, extension_data);
    }
    fmt::format_to(std::back_inserter(out), " {}", part.body_lines);
  } else if (content.type == "text") {
    fmt::format_to(std::back_inserter(out), " {}", part.body_lines);
  }
  if (extension_data) {
    out += ' ';
    append_nstring(out, content.md5);
    append_disposition_language_location(out, content);
  }
  out += ')';
}

}  // namespace

std::string imap_envelope(const Part& message) {
  std::string out;
  append_envelope(out, message.envelope.value_or(Envelope{}));
  return out;
}

std::string imap_bodystructure(const Part& part, bool extension_data) {
  std::string out;
  append_body(out, part, extension_data);
  return out;
}

}  // namespace postcore::mime
