// What an SMTP session asks of the rest of the system: recipient checks and message storage.
// Implemented by whoever drives the session (the network glue, tests, benchmarks).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.h"

namespace postcore::smtp {

// Replies: 250 2.1.5 / 550 5.1.1 / 554 5.7.1 / 550 5.2.1 / 451 4.3.0
// mailbox_full: 452 4.2.2 (RFC 3463), the sender tries again later.
enum class RcptVerdict {
  accept,
  unknown_user,
  relay_denied,
  disabled,
  temporary_failure,
  mailbox_full
};

// Replies: 235 2.7.0 / 535 5.7.8 / 454 4.7.0
enum class AuthResult { success, invalid, temporary_failure };

// The session calls these from inside Session::feed() (and from the commit answers when they
// release buffered input). The only Session members a host may call from inside one of these
// callbacks are commit_succeeded() and commit_failed(), for a store that answers at once, and
// auth_answered() from inside authenticate().
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // A MAIL command was accepted: a new transaction begins. Hosts that answer RCPT from
  // versioned state pick the version for the whole transaction here.
  virtual void transaction_started() {}
  // On accept, the host may fill `targets` with where the mail goes (the directory's
  // expansion); the session stores them with the recipient. `targets` is empty on entry.
  virtual RcptVerdict check_recipient(std::string_view address,
                                      std::vector<DeliveryTarget>& targets) = 0;
  // Start storing a message; returns its queue id, or an empty string if the store cannot
  // take it now (the session then answers 451 4.3.0 and discards the data).
  virtual std::string message_begin(const Envelope& envelope) = 0;
  virtual void message_data(std::string_view chunk) = 0;  // message bytes, in order
  // All data given; the host later calls Session::commit_succeeded() or commit_failed().
  virtual void message_end() = 0;
  virtual void message_abort() = 0;  // discard what was given since message_begin
  // AUTH (RFC 4954): the credentials the client sent, decoded (`authzid` empty unless the
  // client named one). The host checks them, usually on another thread, and answers with
  // Session::auth_answered(), later or from inside this call. The session wipes its copy
  // of the password when this returns.
  virtual void authenticate(std::string_view authzid, std::string_view authcid,
                            std::string_view password) = 0;
};

}  // namespace postcore::smtp
