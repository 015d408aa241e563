#include "dataplane/smtp/command_table.h"

#include "dataplane/smtp/ascii.h"

namespace postcore::smtp {
namespace {

struct CommandEntry {
  std::string_view name;
  Verb verb;
  // Empty for the verbs that are not implemented, and for AUTH: HELP does not depend on the
  // configuration, and AUTH is not always offered.
  std::string_view help;
};

constexpr CommandEntry kCommands[] = {
    {"EHLO", Verb::ehlo, "EHLO <hostname>"},
    {"HELO", Verb::helo, "HELO <hostname>"},
    {"MAIL", Verb::mail,
     "MAIL FROM:<address> [SIZE=<octets>] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8] "
     "[RET=FULL|HDRS] [ENVID=<xtext>]"},
    {"RCPT", Verb::rcpt,
     "RCPT TO:<address> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=<type>;<xtext>]"},
    {"DATA", Verb::data, "DATA"},
    {"BDAT", Verb::bdat, "BDAT <octets> [LAST]"},
    {"RSET", Verb::rset, "RSET"},
    {"NOOP", Verb::noop, "NOOP"},
    {"QUIT", Verb::quit, "QUIT"},
    {"VRFY", Verb::vrfy, "VRFY <address>"},
    {"HELP", Verb::help, "HELP [<command>]"},
    {"EXPN", Verb::not_implemented, {}},
    {"STARTTLS", Verb::not_implemented, {}},
    {"AUTH", Verb::auth, {}},
    {"ETRN", Verb::not_implemented, {}},
    {"TURN", Verb::not_implemented, {}},
    {"ATRN", Verb::not_implemented, {}},
    {"SEND", Verb::not_implemented, {}},
    {"SOML", Verb::not_implemented, {}},
    {"SAML", Verb::not_implemented, {}},
};

constexpr std::string_view kOverview =
    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP";

}  // namespace

CommandLine split_command_line(std::string_view line) {
  CommandLine command;
  const size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  if (space != std::string_view::npos) {
    command.argument = line.substr(space + 1);
    command.has_argument = true;
  }
  for (const CommandEntry& entry : kCommands) {
    if (iequals(verb, entry.name)) {
      command.verb = entry.verb;
      break;
    }
  }
  return command;
}

std::string_view help_text(std::string_view topic) {
  if (topic.empty()) return kOverview;
  for (const CommandEntry& entry : kCommands) {
    if (iequals(topic, entry.name)) return entry.help;
  }
  return {};
}

}  // namespace postcore::smtp
