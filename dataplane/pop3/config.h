// Configuration of a POP3 server session: its limits and which logins it takes.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace postcore::pop3 {

struct Limits {
  // Octets of a command line including CRLF. RFC 2449 4 caps commands at 255, but an AUTH
  // PLAIN initial response of long names is longer; an over-long line is answered -ERR.
  size_t max_command_line = 1024;
  unsigned max_errors = 10;  // bad commands before -ERR and close
  // RFC 1939 3: an inactivity timer of at least 10 minutes.
  std::chrono::seconds idle_timeout{600};
};

struct Config {
  std::string hostname;  // in the greeting
  Limits limits;
  // USER/PASS and SASL PLAIN: passwords in the clear. Off, CAPA lists neither and both are
  // refused with [AUTH] ([auth] plaintext, as for SMTP AUTH; STLS will lift it).
  bool plaintext_logins = true;
  // The greeting's timestamp (RFC 1939 7: "<process-ID.clock@hostname>", unique per
  // connection); empty: APOP is not offered.
  std::string apop_timestamp;
};

}  // namespace postcore::pop3
