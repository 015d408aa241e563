// Configuration of an SMTP server session: the limits it enforces, how it treats input that
// is common in the wild but not RFC 5321 (bare CR or LF line endings), and AUTH.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace postcore::smtp {

struct Limits {
  size_t max_command_line = 512;            // octets including CRLF (RFC 5321 4.5.3.1.4)
  size_t max_text_line = 1000;              // octets including CRLF inside DATA
  uint64_t max_message_size = 50ull << 20;  // advertised as SIZE n
  size_t max_recipients = 1000;             // beyond: 452 4.5.3
  // Delivery targets of one message after the directory's expansion (a group counts once
  // per member); a RCPT that would go beyond: 452 4.5.3.
  size_t max_expanded_recipients = 20000;
  unsigned max_errors = 10;                   // protocol errors before 421 4.7.0 and close
  std::chrono::seconds command_timeout{300};  // RFC 5321 4.5.3.2
  std::chrono::seconds data_timeout{180};     // per data block
};

// What to do with a CR or LF that is not part of a CRLF pair. A message's end is always the
// exact sequence CRLF "." CRLF whatever this says, so no variant can smuggle a second message.
//   reject:    a message holding one is refused after its end with 550 5.6.0; a command line
//              ending in a bare LF is answered 500 5.5.2.
//   normalise: each one becomes CRLF, in message text and at the end of command lines.
enum class BareLineEnding { reject, normalise };

// SMTP AUTH (RFC 4954) with the PLAIN and LOGIN mechanisms; the host checks the credentials.
struct AuthSettings {
  bool offered = false;   // EHLO lists AUTH and the AUTH command is taken; else AUTH is 502
  bool required = false;  // MAIL before a successful AUTH is 530 (set offered too)
};

struct Config {
  std::string hostname;  // in greeting, EHLO reply, Received:
  Limits limits;
  BareLineEnding bare_line_ending = BareLineEnding::reject;
  AuthSettings auth;
};

}  // namespace postcore::smtp
