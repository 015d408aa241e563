// The SMTP commands this server knows: how a command line's verb is recognised, and the
// text HELP gives for each.
#pragma once

#include <cstdint>
#include <string_view>

namespace postcore::smtp {

enum class Verb : uint8_t {
  helo,
  ehlo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  help,
  auth,             // RFC 4954; answered like not_implemented when not offered
  not_implemented,  // a verb some servers implement and this one does not: 502
  unknown,          // 500
};

struct CommandLine {
  Verb verb = Verb::unknown;
  std::string_view argument;  // after the first space; empty if none
  bool has_argument = false;
};

// line has no CRLF and no trailing spaces. Verbs are matched without regard to case.
CommandLine split_command_line(std::string_view line);

// HELP's answer for a topic ("" for the overview), without the "214 2.0.0 " prefix or
// CRLF; empty if the topic is not known.
std::string_view help_text(std::string_view topic);

}  // namespace postcore::smtp
