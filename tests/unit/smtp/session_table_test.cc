// Table-driven tests of the SMTP session: each case is the client's input, the exact bytes
// the session must send back (after the greeting) and the exact host calls it must make.
// Every case is run whole, cut in two at every byte boundary, and fed one byte at a time;
// all runs must give the same output and the same host calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/smtp/session_table.h"

namespace postcore::smtp::smtp_test {
namespace {

// A message whose text tries to end early with a look-alike of CRLF.CRLF and then start a
// second transaction; only the real CRLF.CRLF after "smuggled" ends it.
struct SmuggleVariant {
  const char* name;
  const char* fake_end;
};
constexpr SmuggleVariant kSmuggleVariants[] = {
    {"lf_dot_lf", "\n.\n"},
    {"cr_dot_cr", "\r.\r"},
    {"lf_dot_crlf", "\n.\r\n"},
    {"crlf_dot_lf", "\r\n.\n"},
    {"cr_dot_crlf", "\r.\r\n"},
    {"crlf_dot_cr", "\r\n.\r"},
    {"cr_dot_lf", "\r.\n"},
    {"lf_dot_cr", "\n.\r"},
    {"crlf_dot_crcrlf", "\r\n.\r\r\n"},
    {"crlf_dot_lfcrlf", "\r\n.\n\r\n"},
};
const std::string kSmuggled =
    "MAIL FROM:<x@evil.test>\r\nRCPT TO:<y@example.net>\r\nDATA\r\nsmuggled";

void add_smuggling_cases(std::vector<SessionCase>& cases) {
  for (const SmuggleVariant& variant : kSmuggleVariants) {
    const std::string input = kEhlo + kMailRcpt + "DATA\r\nSubject: a\r\n\r\nhello" +
                              variant.fake_end + kSmuggled + "\r\n.\r\nQUIT\r\n";
    cases.push_back({.name = std::string("smuggle_reject_") + variant.name,
                     .input = input,
                     .output = ehlo_reply() + kMailOk + kRcptOk + kGo + kBareReject + kBye,
                     .log = {kAskB, kBegin, "ABORT"},
                     .closing = true});
  }
  // Normalised, each look-alike becomes an ordinary line holding "." inside the message; the
  // smuggled commands are message text, never commands. (The relaying client dot-stuffs
  // that line again.) The two variants with an extra line break get one more empty line.
  for (const SmuggleVariant& variant : kSmuggleVariants) {
    const std::string input = kEhlo + kMailRcpt + "DATA\r\nSubject: a\r\n\r\nhello" +
                              variant.fake_end + kSmuggled + "\r\n.\r\nQUIT\r\n";
    const std::string name = variant.name;
    const std::string after_dot =
        name == "crlf_dot_crcrlf" || name == "crlf_dot_lfcrlf" ? "\r\n\r\n" : "\r\n";
    cases.push_back(
        {.name = "smuggle_normalise_" + name,
         .input = input,
         .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1") + kBye,
         .log = {kAskB, kBegin,
                 data("Q1", "Subject: a\r\n\r\nhello\r\n." + after_dot + kSmuggled + "\r\n"), "END",
                 "COMMIT Q1"},
         .setup = normalise,
         .closing = true});
  }
  // A look-alike with no real end after it: the message is still being read, no reply.
  cases.push_back({.name = "smuggle_without_real_end_is_still_data",
                   .input = kEhlo + kMailRcpt + "DATA\r\nhello\r\n.\nQUIT\r\n",
                   .output = ehlo_reply() + kMailOk + kRcptOk + kGo,
                   .log = {kAskB, kBegin, "ABORT"}});
}

std::vector<SessionCase> session_cases() {
  std::vector<SessionCase> cases = {
      // --- greeting, EHLO/HELO, simple commands ---
      {.name = "greeting_only", .input = "", .output = ""},
      {.name = "ehlo", .input = kEhlo, .output = ehlo_reply()},
      {.name = "ehlo_lower_case", .input = "ehlo client.test\r\n", .output = ehlo_reply()},
      {.name = "ehlo_reflects_size_limit",
       .input = kEhlo,
       .output = ehlo_reply(1234),
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 1234; }},
      {.name = "helo", .input = "HELO client.test\r\n", .output = "250 mx.test\r\n"},
      {.name = "ehlo_without_argument",
       .input = "EHLO\r\n",
       .output = "501 5.5.4 Syntax: EHLO <hostname>\r\n"},
      {.name = "helo_with_two_words",
       .input = "HELO a b\r\n",
       .output = "501 5.5.4 Syntax: HELO <hostname>\r\n"},
      {.name = "ehlo_address_literal", .input = "EHLO [192.0.2.1]\r\n", .output = ehlo_reply()},
      {.name = "noop_with_and_without_argument",
       .input = "NOOP\r\nnOoP whatever\r\n",
       .output = kOk + kOk},
      {.name = "rset", .input = "RSET\r\n", .output = kOk},
      {.name = "rset_with_argument",
       .input = "RSET now\r\n",
       .output = "501 5.5.4 Syntax: no parameters allowed\r\n"},
      {.name = "quit_closes_and_ignores_the_rest",
       .input = "QUIT\r\nNOOP\r\n",
       .output = kBye,
       .closing = true},
      {.name = "vrfy",
       .input = "VRFY bob\r\nVRFY\r\n",
       .output = "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
                 "501 5.5.4 Syntax: VRFY <address>\r\n"},
      {.name = "help",
       .input = "HELP\r\nhelp mail\r\nHELP bdat\r\nHELP FROB\r\n",
       .output = "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\r\n"
                 "214 2.0.0 MAIL FROM:<address> [SIZE=<octets>] "
                 "[BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8] [RET=FULL|HDRS] [ENVID=<xtext>]\r\n"
                 "214 2.0.0 BDAT <octets> [LAST]\r\n"
                 "504 5.5.4 HELP topic not implemented\r\n"},
      {.name = "unknown_command", .input = "FROB\r\n", .output = kUnknown},
      {.name = "empty_line", .input = "\r\n", .output = kUnknown},
      {.name = "leading_space_is_not_a_verb", .input = " NOOP\r\n", .output = kUnknown},
      {.name = "not_implemented",
       .input = "EXPN staff\r\nSTARTTLS\r\nAUTH PLAIN\r\nTURN\r\n",
       .output = "502 5.5.1 Command not implemented\r\n502 5.5.1 Command not implemented\r\n"
                 "502 5.5.1 Command not implemented\r\n502 5.5.1 Command not implemented\r\n"},
      {.name = "trailing_spaces_ignored", .input = "NOOP   \r\nRSET \r\n", .output = kOk + kOk},

      // --- line discipline of commands ---
      {.name = "command_line_at_limit",
       .input = "NOOP " + std::string(505, 'x') + "\r\n",
       .output = kOk},
      {.name = "command_line_over_limit_then_resync",
       .input = "NOOP " + std::string(506, 'x') + "\r\nNOOP\r\n",
       .output = "500 5.5.2 Line too long\r\n" + kOk},
      {.name = "very_long_command_line_is_discarded",
       .input = "MAIL FROM:<" + std::string(3000, 'y') + "\r\nRSET\r\n",
       .output = "500 5.5.2 Line too long\r\n" + kOk},
      {.name = "small_command_line_limit",
       .input = "NOOP 12\r\nNOOP 123\r\n",
       .output = kOk + "500 5.5.2 Line too long\r\n",
       .setup = [](Config& c, RecordingHost&) { c.limits.max_command_line = 9; }},
      {.name = "bare_lf_command_rejected",
       .input = "NOOP\nNOOP\r\n",
       .output = "500 5.5.2 Command line must end with <CR><LF>\r\n" + kOk},
      {.name = "bare_lf_command_normalised",
       .input = "NOOP\nNOOP\r\n",
       .output = kOk + kOk,
       .setup = normalise},
      {.name = "control_character_in_command",
       .input = std::string("NO\x01OP\r\nNOOP\rX\r\nNO\0OP\r\n", 22),
       .output = "500 5.5.2 Control character in command line\r\n"
                 "500 5.5.2 Control character in command line\r\n"
                 "500 5.5.2 Control character in command line\r\n"},
      {.name = "too_many_errors",
       .input = "FROB\r\nNOOP\r\nMAIL\r\nBLAH\r\nNOOP\r\n",
       .output = kUnknown + kOk + "503 5.5.1 Send HELO/EHLO first\r\n" + kUnknown +
                 "421 4.7.0 mx.test Too many errors, closing connection\r\n",
       .setup = [](Config& c, RecordingHost&) { c.limits.max_errors = 3; },
       .closing = true},
      {.name = "too_many_errors_by_long_lines",
       .input = std::string(20, 'z') + "\r\n" + std::string(30, 'z') + "\r\nNOOP\r\n",
       .output = "500 5.5.2 Line too long\r\n500 5.5.2 Line too long\r\n"
                 "421 4.7.0 mx.test Too many errors, closing connection\r\n",
       .setup =
           [](Config& c, RecordingHost&) {
             c.limits.max_errors = 2;
             c.limits.max_command_line = 16;
           },
       .closing = true},

      // --- sequence ---
      {.name = "mail_before_helo", .input = kMail, .output = "503 5.5.1 Send HELO/EHLO first\r\n"},
      {.name = "rcpt_before_mail", .input = kEhlo + kRcpt, .output = ehlo_reply() + kNeedMail},
      {.name = "data_before_mail", .input = kEhlo + "DATA\r\n", .output = ehlo_reply() + kNeedMail},
      {.name = "nested_mail",
       .input = kEhlo + kMail + kMail,
       .output = ehlo_reply() + kMailOk + "503 5.5.1 Nested MAIL command\r\n"},
      {.name = "rset_ends_transaction",
       .input = kEhlo + kMail + "RSET\r\n" + kMail,
       .output = ehlo_reply() + kMailOk + kOk + kMailOk},
      {.name = "ehlo_ends_transaction",
       .input = kEhlo + kMail + kEhlo + kRcpt,
       .output = ehlo_reply() + kMailOk + ehlo_reply() + kNeedMail},
      {.name = "data_without_valid_recipient",
       .input = kEhlo + kMail + "RCPT TO:<unknown@example.net>\r\nDATA\r\n",
       .output = ehlo_reply() + kMailOk + "550 5.1.1 Recipient address rejected: User unknown\r\n" +
                 "554 5.5.1 No valid recipients\r\n",
       .log = {"RCPT unknown@example.net"},
       .setup =
           [](Config&, RecordingHost& h) {
             h.verdicts["unknown@example.net"] = RcptVerdict::unknown_user;
           }},
      {.name = "data_with_argument",
       .input = kEhlo + kMailRcpt + "DATA now\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + "501 5.5.4 Syntax: no parameters allowed\r\n",
       .log = {kAskB}},

      // --- MAIL FROM ---
      {.name = "mail_syntax",
       .input = kEhlo + "MAIL <a@example.org>\r\nMAIL FROM:a@example.org\r\nMAIL FROM:\r\n",
       .output = ehlo_reply() + "501 5.5.4 Syntax: MAIL FROM:<address>\r\n" +
                 "501 5.1.7 Bad sender address syntax\r\n" +
                 "501 5.1.7 Bad sender address syntax\r\n"},
      {.name = "mail_mixed_case_and_space_after_colon",
       .input = kEhlo + "mail from: <a@example.org>\r\nRcPt To:<b@example.net>\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk,
       .log = {kAskB}},
      {.name = "null_sender",
       .input = kEhlo + "MAIL FROM:<>\r\n" + kRcpt + "DATA\r\nx\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, "BEGIN <> <b@example.net>", data("Q1", "x\r\n"), "END", "COMMIT Q1"}},
      {.name = "postmaster_is_not_a_sender",
       .input = kEhlo + "MAIL FROM:<postmaster>\r\n",
       .output = ehlo_reply() + "501 5.1.7 Bad sender address syntax\r\n"},
      {.name = "mail_size_within_limit",
       .input = kEhlo + "MAIL FROM:<a@example.org> SIZE=100\r\n" + kRcpt + "DATA\r\n.\r\n",
       .output = ehlo_reply(100) + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin + " SIZE=100", "DATA " + received("Q1"), "END", "COMMIT Q1"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 100; }},
      {.name = "mail_size_over_limit",
       .input = kEhlo + "MAIL FROM:<a@example.org> SIZE=101\r\n" +
                "MAIL FROM:<a@example.org> SIZE=99999999999999999999999\r\n" + kRcpt,
       .output = ehlo_reply(100) + kTooBig + kTooBig + kNeedMail,
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 100; }},
      {.name = "mail_bad_size",
       .input = kEhlo + "MAIL FROM:<a@example.org> SIZE=12k\r\n" +
                "MAIL FROM:<a@example.org> SIZE\r\n" +
                "MAIL FROM:<a@example.org> SIZE=1 SIZE=2\r\n",
       .output = ehlo_reply() + "501 5.5.4 Invalid parameter: SIZE\r\n" +
                 "501 5.5.4 Invalid parameter: SIZE\r\n" + "501 5.5.4 Invalid parameter: SIZE\r\n"},
      {.name = "mail_all_parameters",
       .input = kEhlo +
                "MAIL FROM:<a@example.org> size=42  BODY=8bitmime SMTPUTF8 RET=HDRS "
                "ENVID=QQ+2B1\r\n" +
                kRcpt + "DATA\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin + " SIZE=42 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B1",
               "DATA " + received("Q1", "b@example.net", "UTF8SMTP"), "END", "COMMIT Q1"}},
      {.name = "mail_body_values",
       .input = kEhlo + "MAIL FROM:<a@example.org> BODY=7BIT\r\nRSET\r\n" +
                "MAIL FROM:<a@example.org> BODY=8BIT\r\n" + "MAIL FROM:<a@example.org> BODY=\r\n",
       .output = ehlo_reply() + kMailOk + kOk + "501 5.5.4 Invalid parameter: BODY\r\n" +
                 "501 5.5.4 Invalid parameter: BODY\r\n"},
      {.name = "mail_ret_and_envid_values",
       .input = kEhlo + "MAIL FROM:<a@example.org> RET=NONE\r\n" +
                "MAIL FROM:<a@example.org> ENVID=a+zz\r\n" +
                "MAIL FROM:<a@example.org> ENVID=a=b\r\n" +
                "MAIL FROM:<a@example.org> SMTPUTF8=yes\r\n" +
                "MAIL FROM:<a@example.org> RET=FULL ENVID=" + std::string(100, 'e') + "\r\n" +
                "RSET\r\nMAIL FROM:<a@example.org> ENVID=" + std::string(101, 'e') + "\r\n",
       .output = ehlo_reply() + "501 5.5.4 Invalid parameter: RET\r\n" +
                 "501 5.5.4 Invalid parameter: ENVID\r\n" +
                 "501 5.5.4 Invalid parameter: ENVID\r\n" +
                 "501 5.5.4 Invalid parameter: SMTPUTF8\r\n" + kMailOk + kOk +
                 "501 5.5.4 Invalid parameter: ENVID\r\n"},
      {.name = "mail_unknown_parameter",
       .input = kEhlo + "MAIL FROM:<a@example.org> AUTH=<>\r\nMAIL FROM:<a@example.org> X-Y\r\n" +
                "MAIL FROM:<a@example.org>BODY=7BIT\r\n",
       .output = ehlo_reply() + "555 5.5.4 Unsupported parameter: AUTH\r\n" +
                 "555 5.5.4 Unsupported parameter: X-Y\r\n" +
                 "501 5.5.4 Invalid parameter: BODY=7BIT\r\n"},
      {.name = "mail_binarymime_refuses_data",
       .input = kEhlo + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n" + kRcpt + "DATA\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + "503 5.5.1 BODY=BINARYMIME requires BDAT\r\n",
       .log = {kAskB}},
      {.name = "smtputf8_addresses",
       .input = kEhlo +
                "MAIL FROM:<j\xC3\xB6rg@b\xC3\xBC"
                "cher.example> SMTPUTF8\r\n" +
                "RCPT TO:<\xE7\x94\xA8\xE6\x88\xB7@example.net>\r\nDATA\r\nx\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {"RCPT \xE7\x94\xA8\xE6\x88\xB7@example.net",
               "BEGIN <j\xC3\xB6rg@b\xC3\xBC"
               "cher.example> <\xE7\x94\xA8\xE6\x88\xB7@example.net> "
               "SMTPUTF8",
               "DATA " + received("Q1", "\xE7\x94\xA8\xE6\x88\xB7@example.net", "UTF8SMTP") +
                   "x\r\n",
               "END", "COMMIT Q1"}},
      {.name = "non_ascii_needs_smtputf8",
       .input = kEhlo + "MAIL FROM:<j\xC3\xB6rg@example.org>\r\n" + kMail +
                "RCPT TO:<j\xC3\xB6rg@example.net>\r\n",
       .output = ehlo_reply() + "553 5.6.7 Non-ASCII addresses not permitted for that sender\r\n" +
                 kMailOk + "553 5.6.7 Non-ASCII addresses not permitted for that recipient\r\n"},
      {.name = "invalid_utf8_address",
       .input = kEhlo + "MAIL FROM:<j\xC3rg@example.org> SMTPUTF8\r\n" +
                "MAIL FROM:<\xC0\xAF@example.org> SMTPUTF8\r\n",
       .output = ehlo_reply() + "501 5.1.7 Bad sender address syntax\r\n" +
                 "501 5.1.7 Bad sender address syntax\r\n"},

      // --- RCPT TO ---
      {.name = "rcpt_verdicts",
       .input = kEhlo + kMail + "RCPT TO:<u@example.net>\r\nRCPT TO:<r@elsewhere.test>\r\n" +
                "RCPT TO:<d@example.net>\r\nRCPT TO:<t@example.net>\r\n" +
                "RCPT TO:<f@example.net>\r\n" + kRcpt,
       .output = ehlo_reply() + kMailOk + "550 5.1.1 Recipient address rejected: User unknown\r\n" +
                 "554 5.7.1 Relay access denied\r\n" +
                 "550 5.2.1 Recipient address rejected: Mailbox disabled\r\n" +
                 "451 4.3.0 Recipient address rejected: Try again later\r\n" +
                 "452 4.2.2 Recipient address rejected: Mailbox full\r\n" + kRcptOk,
       .log = {"RCPT u@example.net", "RCPT r@elsewhere.test", "RCPT d@example.net",
               "RCPT t@example.net", "RCPT f@example.net", kAskB},
       .setup =
           [](Config&, RecordingHost& h) {
             h.verdicts["u@example.net"] = RcptVerdict::unknown_user;
             h.verdicts["r@elsewhere.test"] = RcptVerdict::relay_denied;
             h.verdicts["d@example.net"] = RcptVerdict::disabled;
             h.verdicts["t@example.net"] = RcptVerdict::temporary_failure;
             h.verdicts["f@example.net"] = RcptVerdict::mailbox_full;
           }},
      // Bare "Postmaster" is accepted whatever the host says, and without the host's
      // targets when it refused; other addresses keep the expansion the host gave.
      {.name = "postmaster_always_accepted",
       .input = kEhlo + kMail + "RCPT TO:<PostMaster>\r\nRCPT TO:<postmaster@example.net>\r\n" +
                "DATA\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kRcptOk + kGo + queued("Q1"),
       .log = {"RCPT PostMaster", "RCPT postmaster@example.net",
               "BEGIN <a@example.org> <PostMaster> <postmaster@example.net>=>admin@example.net",
               "DATA " + received("Q1", ""), "END", "COMMIT Q1"},
       .setup =
           [](Config&, RecordingHost& h) {
             h.verdicts["PostMaster"] = RcptVerdict::unknown_user;
             h.expansions["PostMaster"] = {"ignored@example.net"};
             h.expansions["postmaster@example.net"] = {"admin@example.net"};
           }},
      {.name = "expansion_recorded_and_limited",
       .input = kEhlo + kMail + "RCPT TO:<team@example.net>\r\nRCPT TO:<big@example.net>\r\n" +
                "RCPT TO:<c@example.net>\r\nRSET\r\n" + kMail + "RCPT TO:<big@example.net>\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + "452 4.5.3 Too many recipients\r\n" + kRcptOk +
                 kOk + kMailOk + kRcptOk,
       .log = {"RCPT team@example.net", "RCPT big@example.net", "RCPT c@example.net",
               "RCPT big@example.net"},
       .setup =
           [](Config& c, RecordingHost& h) {
             c.limits.max_expanded_recipients = 3;
             h.expansions["team@example.net"] = {"a@example.net", "b@example.net"};
             h.expansions["big@example.net"] = {"x@example.net", "y@example.net"};
             h.expansions["c@example.net"] = {"c@example.net"};
           }},
      {.name = "rcpt_syntax",
       .input = kEhlo + kMail + "RCPT <b@example.net>\r\nRCPT TO:<>\r\nRCPT TO:<b>\r\n" +
                "RCPT TO:<b@example.net\r\nRCPT TO:<b@-x.net>\r\nRCPT TO:<b@x-.net>\r\n" +
                "RCPT TO:<b@x..net>\r\nRCPT TO:<.b@x.net>\r\nRCPT TO:<b.@x.net>\r\n" +
                "RCPT TO:<b@x.net.>\r\nRCPT TO:<b c@x.net>\r\nRCPT TO:<b@x.net> \r\n",
       .output = ehlo_reply() + kMailOk + "501 5.5.4 Syntax: RCPT TO:<address>\r\n" +
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n"
                 "501 5.1.3 Bad recipient address syntax\r\n" +
                 kRcptOk,
       .log = {"RCPT b@x.net"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_errors = 100; }},
      {.name = "rcpt_quoted_local_part_and_route",
       .input = kEhlo + kMail + "RCPT TO:<\"john \\\"q\\\" doe\"@example.net>\r\n" +
                "RCPT TO:<@a.example,@b.example:c@example.net>\r\n" +
                "RCPT TO:<d@[192.0.2.7]>\r\nRCPT TO:<e@[IPv6:2001:db8::1]>\r\n" +
                "RCPT TO:<f@[999.0.0.1]>\r\nRCPT TO:<g@[IPv6:2001:db8::x]>\r\n" +
                "RCPT TO:<h@[x-tag:stuff]>\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kRcptOk + kRcptOk + kRcptOk +
                 "501 5.1.3 Bad recipient address syntax\r\n" +
                 "501 5.1.3 Bad recipient address syntax\r\n" + kRcptOk,
       .log = {"RCPT \"john \\\"q\\\" doe\"@example.net", "RCPT c@example.net",
               "RCPT d@[192.0.2.7]", "RCPT e@[IPv6:2001:db8::1]", "RCPT h@[x-tag:stuff]"}},
      {.name = "address_length_limits",
       .input = kEhlo + kMail + "RCPT TO:<" + std::string(64, 'l') + "@x.net>\r\n" + "RCPT TO:<" +
                std::string(65, 'l') + "@x.net>\r\n" +                   // local part 65
                "RCPT TO:<l@" + labels({63, 63, 63, 60}) + ">\r\n" +     // path 256
                "RCPT TO:<l@" + labels({63, 63, 63, 63, 1}) + ">\r\n" +  // domain 257
                "RCPT TO:<" + std::string(64, 'l') + "@" + labels({63, 63, 63, 60}) +
                ">\r\n" +                                    // path 319
                "RCPT TO:<l@" + labels({64, 3}) + ">\r\n" +  // label 64
                "RSET\r\nMAIL FROM:<" + std::string(65, 'l') + "@x.net>\r\n" + "MAIL FROM:<l@" +
                labels({63, 63, 63, 63, 1}) + ">\r\n" + "MAIL FROM:<" + std::string(64, 'l') + "@" +
                labels({63, 63, 63, 60}) + ">\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk +
                 "501 5.1.3 Local part of recipient address too long\r\n" + kRcptOk +
                 "501 5.1.3 Domain of recipient address too long\r\n" +
                 "501 5.1.3 Path too long\r\n" + "501 5.1.3 Bad recipient address syntax\r\n" +
                 kOk + "501 5.1.7 Local part of sender address too long\r\n" +
                 "501 5.1.7 Domain of sender address too long\r\n" + "501 5.1.7 Path too long\r\n",
       .log = {"RCPT " + std::string(64, 'l') + "@x.net", "RCPT l@" + labels({63, 63, 63, 60})}},
      {.name = "rcpt_params",
       .input = kEhlo + kMail + "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE\r\n" +
                "RCPT TO:<c@example.net> notify=never ORCPT=rfc822;c+40example.net\r\n" +
                "RCPT TO:<d@example.net> NOTIFY=NEVER,SUCCESS\r\n" +
                "RCPT TO:<d@example.net> NOTIFY=\r\n" +
                "RCPT TO:<d@example.net> NOTIFY=DELAY,\r\n" +
                "RCPT TO:<d@example.net> ORCPT=rfc822\r\n" +
                "RCPT TO:<d@example.net> ORCPT=rfc822;a+4\r\n" +
                "RCPT TO:<d@example.net> SIZE=10\r\n" + "DATA\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kRcptOk +
                 "501 5.5.4 Invalid parameter: NOTIFY\r\n"
                 "501 5.5.4 Invalid parameter: NOTIFY\r\n"
                 "501 5.5.4 Invalid parameter: NOTIFY\r\n"
                 "501 5.5.4 Invalid parameter: ORCPT\r\n"
                 "501 5.5.4 Invalid parameter: ORCPT\r\n"
                 "555 5.5.4 Unsupported parameter: SIZE\r\n" +
                 kGo + queued("Q1"),
       .log = {kAskB, "RCPT c@example.net",
               "BEGIN <a@example.org> <b@example.net>;NOTIFY=6 "
               "<c@example.net>;NOTIFY=1;ORCPT=rfc822;c+40example.net",
               "DATA " + received("Q1", ""), "END", "COMMIT Q1"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_errors = 100; }},
      {.name = "too_many_recipients",
       .input = kEhlo + kMail + "RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n" +
                "RCPT TO:<d@example.net>\r\nRCPT TO:<Postmaster>\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kRcptOk +
                 "452 4.5.3 Too many recipients\r\n452 4.5.3 Too many recipients\r\n",
       .log = {kAskB, "RCPT c@example.net"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_recipients = 2; }},

      // --- DATA ---
      {.name = "data_message",
       .input = kEhlo + kMailRcpt + "DATA\r\nSubject: hi\r\n\r\nHello.\r\n.\r\nQUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1") + kBye,
       .log = {kAskB, kBegin, data("Q1", "Subject: hi\r\n\r\nHello.\r\n"), "END", "COMMIT Q1"},
       .closing = true},
      {.name = "data_after_helo_says_smtp",
       .input = "HELO old.client\r\n" + kMailRcpt + "DATA\r\nx\r\n.\r\n",
       .output = "250 mx.test\r\n" + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin + " HELO",
               "DATA " + received("Q1", "b@example.net", "SMTP", "old.client") + "x\r\n", "END",
               "COMMIT Q1"}},
      {.name = "data_empty_message",
       .input = kEhlo + kMailRcpt + "DATA\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, "DATA " + received("Q1"), "END", "COMMIT Q1"}},
      {.name = "data_dot_unstuffing",
       .input = kEhlo + kMailRcpt + "DATA\r\n..\r\n...\r\n. x\r\n.a.\r\nb.\r\n..\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", ".\r\n..\r\n x\r\na.\r\nb.\r\n.\r\n"), "END",
               "COMMIT Q1"}},
      {.name = "data_two_recipients_no_for_clause",
       .input = kEhlo + kMailRcpt + "RCPT TO:<c@example.net>\r\nDATA\r\nx\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, "RCPT c@example.net", kBegin + " <c@example.net>",
               "DATA " + received("Q1", "") + "x\r\n", "END", "COMMIT Q1"}},
      {.name = "data_bare_lf_rejected",
       .input = kEhlo + kMailRcpt + "DATA\r\na\nb\r\n.\r\nNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + kBareReject + kOk,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "data_bare_cr_rejected",
       .input = kEhlo + kMailRcpt + "DATA\r\na\rb\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + kBareReject,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "data_cr_before_crlf_rejected",
       .input = kEhlo + kMailRcpt + "DATA\r\na\r\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + kBareReject,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "data_bare_line_endings_normalised",
       .input = kEhlo + kMailRcpt + "DATA\r\na\nb\rc\r\r\nd\n..e\r.\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "a\r\nb\r\nc\r\n\r\nd\r\n.e\r\n.\r\n"), "END",
               "COMMIT Q1"},
       .setup = normalise},
      {.name = "data_line_at_limit",
       .input = kEhlo + kMailRcpt + "DATA\r\n12345678\r\n.2345678\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "12345678\r\n2345678\r\n"), "END", "COMMIT Q1"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_text_line = 10; }},
      {.name = "data_line_over_limit",
       .input = kEhlo + kMailRcpt + "DATA\r\nok\r\n123456789\r\nok\r\n.\r\n" + kMailRcpt,
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + "500 5.5.6 Line too long\r\n" + kMailOk +
                 kRcptOk,
       .log = {kAskB, kBegin, "ABORT", kAskB},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_text_line = 10; }},
      {.name = "data_unterminated_long_line",
       .input = kEhlo + kMailRcpt + "DATA\r\n" + std::string(40, 'x'),
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo,
       .log = {kAskB, kBegin, "ABORT"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_text_line = 10; }},
      {.name = "data_size_at_limit",
       .input = kEhlo + kMailRcpt + "DATA\r\n12345678\r\n..\r\n.\r\n",
       .output = ehlo_reply(13) + kMailOk + kRcptOk + kGo + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "12345678\r\n.\r\n"), "END", "COMMIT Q1"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 13; }},
      {.name = "data_size_over_limit",
       .input = kEhlo + kMailRcpt + "DATA\r\n12345678\r\n12\r\n.\r\nNOOP\r\n",
       .output = ehlo_reply(13) + kMailOk + kRcptOk + kGo + kTooBig + kOk,
       .log = {kAskB, kBegin, "ABORT"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 13; }},
      {.name = "data_size_wins_over_bare_lf",
       .input = kEhlo + kMailRcpt + "DATA\r\nab\ncd\r\n12345678\r\n.\r\n",
       .output = ehlo_reply(10) + kMailOk + kRcptOk + kGo + kTooBig,
       .log = {kAskB, kBegin, "ABORT"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 10; }},
      {.name = "data_store_refused",
       .input = kEhlo + kMailRcpt + "DATA\r\nRSET\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kStoreDown + kOk,
       .log = {kAskB, kBegin},
       .setup = [](Config&, RecordingHost& h) { h.refuse_store = true; }},
      {.name = "data_commit_failed_then_next_message",
       .input = kEhlo + kMailRcpt + "DATA\r\nx\r\n.\r\n" + kMailRcpt + "DATA\r\ny\r\n.\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + kStoreDown + kMailOk + kRcptOk + kGo +
                 kStoreDown,
       .log = {kAskB, kBegin, data("Q1", "x\r\n"), "END", "COMMIT-FAILED", kAskB, kBegin,
               data("Q2", "y\r\n"), "END", "COMMIT-FAILED"},
       .commit = Commit::fail},
      {.name = "data_never_acknowledged_before_commit",
       .input = kEhlo + kMailRcpt + "DATA\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo,
       .log = {kAskB, kBegin, data("Q1", "x\r\n"), "END"},
       .commit = Commit::never},
      {.name = "data_commit_inside_message_end",
       .input = kEhlo + kMailRcpt + "DATA\r\nx\r\n.\r\n" + kMailRcpt + "DATA\r\ny\r\n.\r\nNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1") + kMailOk + kRcptOk + kGo +
                 queued("Q2") + kOk,
       .log = {kAskB, kBegin, data("Q1", "x\r\n"), "END", "COMMIT Q1", kAskB, kBegin,
               data("Q2", "y\r\n"), "END", "COMMIT Q2"},
       .commit = Commit::inline_succeed},

      // --- BDAT ---
      {.name = "bdat_single_last",
       .input = kEhlo + kMailRcpt + "BDAT 5 LAST\r\nhello",
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "hello"), "END", "COMMIT Q1"}},
      {.name = "bdat_chunks",
       .input = kEhlo + kMailRcpt + "BDAT 3\r\nabcBDAT 0\r\nbdat 4 last\r\nd\r\neNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(3) + octets(0) + queued("Q1") + kOk,
       .log = {kAskB, kBegin, data("Q1", "abcd\r\ne"), "END", "COMMIT Q1"}},
      {.name = "bdat_zero_last",
       .input = kEhlo + kMailRcpt + "BDAT 0 LAST\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1"),
       .log = {kAskB, kBegin, "DATA " + received("Q1"), "END", "COMMIT Q1"}},
      {.name = "bdat_chunk_holding_commands_is_data",
       .input = kEhlo + kMailRcpt + "BDAT 15 LAST\r\nQUIT\r\n.\r\nRSET\r\nNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1") + kOk,
       .log = {kAskB, kBegin, data("Q1", "QUIT\r\n.\r\nRSET\r\n"), "END", "COMMIT Q1"}},
      {.name = "bdat_binarymime_taken_as_is",
       .input = kEhlo + "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n" + kRcpt +
                "BDAT 9 LAST\r\n" + kBinary,
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1"),
       .log = {kAskB, kBegin + " BODY=BINARYMIME", data("Q1", kBinary), "END", "COMMIT Q1"}},
      {.name = "bdat_bare_lf_rejected",
       .input = kEhlo + kMailRcpt + "BDAT 4 LAST\r\na\nb\nNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kBareReject + kOk,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "bdat_bare_line_endings_normalised",
       .input = kEhlo + kMailRcpt + "BDAT 5 LAST\r\na\nb\rc",
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "a\r\nb\r\nc"), "END", "COMMIT Q1"},
       .setup = normalise},
      {.name = "bdat_crlf_across_chunks",
       .input = kEhlo + kMailRcpt + "BDAT 2\r\na\rBDAT 0\r\nBDAT 2 LAST\r\n\nb",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(2) + octets(0) + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "a\r\nb"), "END", "COMMIT Q1"}},
      {.name = "bdat_cr_at_end_rejected",
       .input = kEhlo + kMailRcpt + "BDAT 2\r\na\rBDAT 0 LAST\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(2) + kBareReject,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "bdat_cr_at_end_normalised",
       .input = kEhlo + kMailRcpt + "BDAT 2 LAST\r\na\r",
       .output = ehlo_reply() + kMailOk + kRcptOk + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "a\r\n"), "END", "COMMIT Q1"},
       .setup = normalise},
      {.name = "bdat_bare_lf_fails_later_chunks",
       .input = kEhlo + kMailRcpt + "BDAT 2\r\na\nBDAT 2\r\nxyBDAT 1 LAST\r\nzNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kBareReject + kBareReject + kBareReject + kOk,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "bdat_without_mail",
       .input = kEhlo + "BDAT 4\r\nNOOPBDAT 3 LAST\r\nabcNOOP\r\n",
       .output = ehlo_reply() + kNeedMail + kNeedMail + kOk},
      {.name = "bdat_without_recipients",
       .input = kEhlo + kMail + "BDAT 4\r\nNOOPBDAT 3 LAST\r\nabc" + kMail,
       .output = ehlo_reply() + kMailOk + "554 5.5.1 No valid recipients\r\n" +
                 "554 5.5.1 No valid recipients\r\n" + kMailOk},
      {.name = "bdat_unreadable_size_closes",
       .input = kEhlo + kMailRcpt + "BDAT 1\r\nxBDAT x\r\nNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(1) +
                 "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n" +
                 "421 4.5.0 mx.test Cannot find the end of the BDAT chunk, closing connection\r\n",
       .log = {kAskB, kBegin, "ABORT"},
       .closing = true},
      {.name = "bdat_size_overflow_closes",
       .input = kEhlo + "BDAT 99999999999999999999999\r\nNOOP\r\n",
       .output = ehlo_reply() + "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n" +
                 "421 4.5.0 mx.test Cannot find the end of the BDAT chunk, closing connection\r\n",
       .closing = true},
      {.name = "bdat_missing_size_closes",
       .input = kEhlo + "BDAT\r\nNOOP\r\n",
       .output = ehlo_reply() + "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n" +
                 "421 4.5.0 mx.test Cannot find the end of the BDAT chunk, closing connection\r\n",
       .closing = true},
      {.name = "bdat_bad_keyword_skips_chunk",
       .input = kEhlo + kMailRcpt + "BDAT 3 MORE\r\nabcBDAT 1 LAST\r\nxRSET\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n" +
                 "501 5.5.4 Syntax: BDAT <octets> [LAST]\r\n" + kOk,
       .log = {kAskB}},
      {.name = "bdat_then_data_refused",
       .input = kEhlo + kMailRcpt + "BDAT 1\r\nxDATA\r\nRSET\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(1) +
                 "503 5.5.1 DATA not allowed after BDAT\r\n" + kOk,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "bdat_then_rcpt_refused",
       .input = kEhlo + kMailRcpt + "BDAT 1\r\nx" + "RCPT TO:<c@example.net>\r\nBDAT 1 LAST\r\ny",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(1) +
                 "503 5.5.1 RCPT not allowed after BDAT\r\n" + queued("Q1"),
       .log = {kAskB, kBegin, data("Q1", "xy"), "END", "COMMIT Q1"}},
      {.name = "bdat_chunk_over_size_limit",
       .input = kEhlo + kMailRcpt + "BDAT 11\r\n01234567890BDAT 1 LAST\r\nxNOOP\r\n",
       .output = ehlo_reply(10) + kMailOk + kRcptOk + kTooBig + kTooBig + kOk,
       .log = {kAskB},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 10; }},
      {.name = "bdat_total_over_size_limit",
       .input = kEhlo + kMailRcpt + "BDAT 6\r\n012345BDAT 5 LAST\r\n67890BDAT 0 LAST\r\n",
       .output = ehlo_reply(10) + kMailOk + kRcptOk + octets(6) + kTooBig + kNeedMail,
       .log = {kAskB, kBegin, "ABORT"},
       .setup = [](Config& c, RecordingHost&) { c.limits.max_message_size = 10; }},
      {.name = "bdat_store_refused_reads_the_chunk",
       .input = kEhlo + kMailRcpt + "BDAT 4\r\nNOOPBDAT 4 LAST\r\nRSETNOOP\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kStoreDown + kStoreDown + kOk,
       .log = {kAskB, kBegin},
       .setup = [](Config&, RecordingHost& h) { h.refuse_store = true; }},
      {.name = "bdat_rset_aborts",
       .input = kEhlo + kMailRcpt + "BDAT 2\r\nabRSET\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(2) + kOk,
       .log = {kAskB, kBegin, "ABORT"}},
      {.name = "bdat_quit_aborts",
       .input = kEhlo + kMailRcpt + "BDAT 2\r\nabQUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + octets(2) + kBye,
       .log = {kAskB, kBegin, "ABORT"},
       .closing = true},
      {.name = "bdat_unterminated_chunk",
       .input = kEhlo + kMailRcpt + "BDAT 100 LAST\r\nQUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk,
       .log = {kAskB, kBegin, data("Q1", "QUIT\r\n")},
       .commit = Commit::never},

      // --- pipelining ---
      {.name = "pipelined_data_and_bdat",
       .input = kEhlo + kMailRcpt + "DATA\r\nSubject: one\r\n\r\n..starts with a dot\r\n.\r\n" +
                "MAIL FROM:<a@example.org> BODY=8BITMIME\r\nRCPT TO:<c@example.net>\r\n" +
                "RCPT TO:<d@example.net>\r\nBDAT 14\r\nSubject: two\r\nBDAT 6 LAST\r\n\r\nbody" +
                "QUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1") + kMailOk + kRcptOk +
                 kRcptOk + octets(14) + queued("Q2") + kBye,
       .log = {kAskB, kBegin, data("Q1", "Subject: one\r\n\r\n.starts with a dot\r\n"), "END",
               "COMMIT Q1", "RCPT c@example.net", "RCPT d@example.net",
               "BEGIN <a@example.org> <c@example.net> <d@example.net> BODY=8BITMIME",
               "DATA " + received("Q2", "") + "Subject: two\r\n\r\nbody", "END", "COMMIT Q2"},
       .closing = true},
      {.name = "pipelined_data_and_bdat_inline_commit",
       .input = kEhlo + kMailRcpt + "DATA\r\nSubject: one\r\n\r\n..starts with a dot\r\n.\r\n" +
                "MAIL FROM:<a@example.org>\r\n" + kRcpt + "BDAT 3 LAST\r\ntwo" + "QUIT\r\n",
       .output = ehlo_reply() + kMailOk + kRcptOk + kGo + queued("Q1") + kMailOk + kRcptOk +
                 queued("Q2") + kBye,
       .log = {kAskB, kBegin, data("Q1", "Subject: one\r\n\r\n.starts with a dot\r\n"), "END",
               "COMMIT Q1", kAskB, kBegin, data("Q2", "two"), "END", "COMMIT Q2"},
       .commit = Commit::inline_succeed,
       .closing = true},
  };
  add_smuggling_cases(cases);
  for (SessionCase& c : auth_cases()) cases.push_back(std::move(c));
  return cases;
}

class SessionTable : public ::testing::TestWithParam<SessionCase> {
 protected:
  void expect_run(const SessionRun& run, const std::string& how) {
    const SessionCase& c = GetParam();
    EXPECT_EQ(run.output, kGreeting + c.output) << how;
    EXPECT_EQ(run.log, c.log) << how;
    EXPECT_EQ(run.closing, c.closing) << how;
  }
};

TEST_P(SessionTable, WholeInput) {
  const SessionCase& c = GetParam();
  expect_run(drive(c.input, {}, c.commit, c.auth, c.setup), "whole");
}

TEST_P(SessionTable, EveryTwoPieceSplit) {
  const SessionCase& c = GetParam();
  for (size_t cut = 1; cut < c.input.size(); ++cut) {
    expect_run(drive(c.input, {cut}, c.commit, c.auth, c.setup), "cut at " + std::to_string(cut));
    if (HasFailure()) return;
  }
}

TEST_P(SessionTable, OneByteAtATime) {
  const SessionCase& c = GetParam();
  std::vector<size_t> cuts;
  for (size_t cut = 1; cut < c.input.size(); ++cut) cuts.push_back(cut);
  expect_run(drive(c.input, cuts, c.commit, c.auth, c.setup), "one byte at a time");
}

// For the cases the brief singles out, every way of cutting the input in three pieces too.
TEST(SessionSplits, EveryThreePieceSplitOfKeyCases) {
  for (const SessionCase& c : session_cases()) {
    if (c.name != "pipelined_data_and_bdat" && c.name != "smuggle_reject_crlf_dot_lf" &&
        c.name != "smuggle_normalise_cr_dot_cr" && c.name != "auth_login_then_pipelined_message") {
      continue;
    }
    for (size_t first = 1; first < c.input.size(); ++first) {
      for (size_t second = first + 1; second < c.input.size(); ++second) {
        const SessionRun run = drive(c.input, {first, second}, c.commit, c.auth, c.setup);
        ASSERT_EQ(run.output, kGreeting + c.output) << c.name << " cuts " << first << "," << second;
        ASSERT_EQ(run.log, c.log) << c.name << " cuts " << first << "," << second;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SessionTable, ::testing::ValuesIn(session_cases()),
                         [](const ::testing::TestParamInfo<SessionCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace postcore::smtp::smtp_test
