// What a POP3 session asks of the rest of the system: checking a login, holding and
// listing the account's maildrop, sending a message, and removing the deleted ones.
// Implemented by whoever drives the session (the network glue, tests, benchmarks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postcore::pop3 {

// -ERR [AUTH] / -ERR [SYS/TEMP]
enum class LoginResult { success, invalid, temporary_failure };
// -ERR [IN-USE] (another session holds it) / -ERR [SYS/TEMP] / -ERR [SYS/PERM]
enum class MaildropResult { opened, in_use, temporary_failure, permanent_failure };

// One message of the maildrop as the session lists it.
struct MessageEntry {
  uint64_t size = 0;  // octets as RETR sends them, before dot-stuffing (lines end in CRLF)
  std::string uidl;   // 1 to 70 octets of 0x21..0x7E, never changing (RFC 1939 7)
};

// The session calls these from inside Session::feed() and the answers below. A host may
// answer from inside the call (a check that needs no other thread) or later.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // USER/PASS or AUTH PLAIN. Answer: Session::login_answered().
  virtual void authenticate(std::string_view user, std::string_view password) = 0;
  // APOP: `digest` is the client's MD5 of the greeting's timestamp and the password, in
  // lower-case hex. Answer: Session::login_answered().
  virtual void authenticate_apop(std::string_view user, std::string_view timestamp,
                                 std::string_view digest) = 0;
  // After a successful login: take the account's maildrop for this session alone and list
  // it. Answer: Session::maildrop_opened(). The host lets the maildrop go when the
  // session ends, however it ends.
  virtual void open_maildrop(std::string_view user) = 0;
  // RETR or TOP of `index` (0-based in the listing): the host hands the message's octets
  // over in order with Session::message_data(), as the driver has room for them (while
  // Session::wants_message_data()), then calls Session::message_end().
  virtual void retrieve(size_t index) = 0;
  // QUIT (the UPDATE state): remove these messages (0-based, ascending), durably, then
  // answer Session::deletes_committed().
  virtual void commit_deletes(const std::vector<size_t>& indices) = 0;
};

}  // namespace postcore::pop3
