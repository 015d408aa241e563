// What the SMTP session's table tests share: the case type, the replies and host calls
// cases are written with, and the cases kept in files of their own.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "tests/unit/smtp/session_driver.h"

namespace postcore::smtp::smtp_test {

inline const std::string kGreeting = "220 mx.test ESMTP ready\r\n";
inline const std::string kEhlo = "EHLO client.test\r\n";
inline const std::string kMail = "MAIL FROM:<a@example.org>\r\n";
inline const std::string kRcpt = "RCPT TO:<b@example.net>\r\n";
inline const std::string kMailRcpt = kMail + kRcpt;
inline const std::string kOk = "250 2.0.0 Ok\r\n";
inline const std::string kMailOk = "250 2.1.0 Ok\r\n";
inline const std::string kRcptOk = "250 2.1.5 Ok\r\n";
inline const std::string kGo = "354 End data with <CR><LF>.<CR><LF>\r\n";
inline const std::string kBye = "221 2.0.0 mx.test Service closing transmission channel\r\n";
inline const std::string kUnknown = "500 5.5.1 Command unrecognized\r\n";
inline const std::string kNeedMail = "503 5.5.1 Need MAIL command\r\n";
inline const std::string kBareReject =
    "550 5.6.0 Bare <CR> or <LF> in message text not allowed\r\n";
inline const std::string kTooBig = "552 5.3.4 Message size exceeds fixed limit\r\n";
inline const std::string kStoreDown =
    "451 4.3.0 Temporary failure storing the message, try again later\r\n";
inline const std::string kBegin = "BEGIN <a@example.org> <b@example.net>";
inline const std::string kAskB = "RCPT b@example.net";
inline const std::string kBinary(
    "\0\n\r.\r\n\r\xFF"
    "z",
    9);  // BINARYMIME octets, taken as is

// A domain of labels of these lengths, e.g. labels({63, 2}) is 63 'd's, a dot, "dd".
inline std::string labels(std::initializer_list<size_t> lengths) {
  std::string domain;
  for (size_t length : lengths) {
    if (!domain.empty()) domain += '.';
    domain += std::string(length, 'd');
  }
  return domain;
}

inline std::string queued(const std::string& id) {
  return "250 2.0.0 Ok: queued as " + id + "\r\n";
}
inline std::string octets(int n) {
  return "250 2.0.0 " + std::to_string(n) + " octets received\r\n";
}
inline std::string data(const std::string& id, const std::string& body) {
  return "DATA " + received(id) + body;
}

struct SessionCase {
  std::string name;
  std::string input;
  std::string output;  // after the greeting
  std::vector<std::string> log;
  Setup setup;
  Commit commit = Commit::succeed;
  AuthAnswer auth = AuthAnswer::deferred;
  bool closing = false;
};

inline void normalise(Config& config, RecordingHost&) {
  config.bare_line_ending = BareLineEnding::normalise;
}

// AUTH (session_auth_cases.cc).
std::vector<SessionCase> auth_cases();

}  // namespace postcore::smtp::smtp_test
