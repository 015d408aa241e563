// One SMTP server conversation (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
// ENHANCEDSTATUSCODES, CHUNKING, SMTPUTF8, DSN, and AUTH PLAIN LOGIN when configured),
// sans-IO: the driver feeds it the bytes the client sent, sends what output() holds, and
// answers the SessionHost calls it makes (recipient checks, message storage, credentials). No
// sockets, files, clocks or threads: time is passed in, and timeouts are the driver's to notice
// (current_timeout() says which one applies).
//
// Replies are given only in the order of the commands, and a message is acknowledged only
// after the host reports it committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/smtp/body_writer.h"
#include "dataplane/smtp/chunk_decoder.h"
#include "dataplane/smtp/config.h"
#include "dataplane/smtp/data_decoder.h"
#include "dataplane/smtp/esmtp_params.h"
#include "dataplane/smtp/pending_input.h"
#include "dataplane/smtp/session_host.h"
#include "queue/envelope.h"

namespace postcore::smtp {

class Session {
 public:
  Session(const Config& config, SessionHost& host, std::string client_address);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  void start(int64_t now_unix);                         // queues the 220 greeting
  void feed(std::string_view bytes, int64_t now_unix);  // any split of the input
  std::string& output();         // bytes to send; the caller sends and clears it
  bool closing() const;          // true after QUIT's 221 or a 421: send output, then close
  bool awaiting_commit() const;  // between message_end and the answer
  void commit_succeeded(std::string_view queue_id);  // 250 2.0.0 Ok: queued as <id>
  void commit_failed();                              // 451 4.3.0
  bool awaiting_auth() const;  // between SessionHost::authenticate() and the answer
  // The host's answer to authenticate(): 235 2.7.0, 535 5.7.8 (a protocol error) or 454 4.7.0.
  // On success `user` is who the host knows the client as (its account's own address,
  // whatever alias or case it logged in with); empty: the authcid as the client gave it.
  void auth_answered(AuthResult result, std::string_view user = {});
  bool authenticated() const;
  const std::string& auth_user() const;          // who the successful AUTH logged in, else empty
  void timed_out();                              // 421 4.4.2 ... and closing()
  void shutting_down();                          // 421 4.3.2 ... and closing() (server stopping)
  std::chrono::seconds current_timeout() const;  // command or data timeout for the state
  bool in_transaction() const;                   // MAIL given and not yet finished/reset

  // Input received but not yet processed: a partial command line, or everything that
  // arrived while awaiting_commit() or awaiting_auth(). The driver should stop reading from the
  // client while this is large (say over 64 KiB); the session itself never refuses input.
  size_t pending_input() const { return pending_.size(); }

 private:
  enum class Mode : uint8_t {
    command,       // reading command lines
    discard_line,  // skipping the rest of a command line that was too long
    data,          // after 354, until CRLF.CRLF
    bdat,          // reading bdat_remaining_ octets of a chunk
  };

  // Where an AUTH exchange is: none in command mode, else which response the next line is.
  enum class AuthStep : uint8_t { none, plain, login_username, login_password };

  bool awaiting_answer() const { return awaiting_commit_ || awaiting_auth_; }
  size_t run(std::string_view input);
  void process_pending();
  void handle_command_line(std::string_view line);

  void handle_helo(std::string_view argument, bool esmtp);
  void handle_mail(std::string_view argument);
  void handle_rcpt(std::string_view argument);
  void handle_data(bool has_argument);
  void handle_bdat(std::string_view argument);
  void handle_help(std::string_view topic);
  void handle_auth(std::string_view argument);
  void handle_auth_response(AuthStep step, std::string_view response);
  void authenticate(std::string_view authzid, std::string_view password);

  bool begin_message();
  void finish_data();
  void finish_chunk();
  void end_message();

  void reply(std::string_view text) { output_ += text; }
  void reply_with_hostname(std::string_view code, std::string_view text);
  void protocol_error(std::string_view text);  // replies, then count_protocol_error()
  void count_protocol_error();
  void parameter_error(const ParamProblem& problem);
  void close_with(std::string_view code, std::string_view text);
  void reset_transaction();

  const Config config_;
  SessionHost& host_;
  std::string output_;
  PendingInput pending_;
  std::string scratch_;  // reused for the Received: header
  int64_t now_ = 0;
  unsigned errors_ = 0;
  Mode mode_ = Mode::command;
  bool started_ = false;
  bool closing_ = false;
  bool awaiting_commit_ = false;
  bool running_ = false;  // inside run(): a commit or AUTH answer must not start another

  bool greeted_ = false;  // EHLO or HELO accepted
  bool in_mail_ = false;  // MAIL accepted
  Envelope envelope_;
  size_t expanded_recipients_ = 0;  // delivery targets in envelope_.recipients

  // AUTH. envelope_.auth_user holds the authcid once one succeeded (never empty then); RSET,
  // EHLO and HELO keep it. Credentials are wiped from auth_decoded_ after each use, and from
  // pending_'s spent octets after a line that may hold them was read from there.
  AuthStep auth_step_ = AuthStep::none;
  bool awaiting_auth_ = false;
  bool wipe_pending_ = false;
  std::string auth_authcid_;  // the authcid being checked (LOGIN's, from its username on)
  std::string auth_decoded_;  // a decoded response

  // BDAT. A transaction that has had a chunk takes no more RCPT and no DATA. Once one of
  // its chunks fails, every later chunk gets the same answer (RFC 3030 3: the client must
  // send no more, but pipelined ones are read and dropped) until LAST or RSET ends it.
  bool bdat_used_ = false;
  bool bdat_last_ = false;     // the current chunk is the LAST
  bool bdat_discard_ = false;  // the current chunk was refused when its command was read
  uint64_t bdat_remaining_ = 0;
  uint64_t bdat_chunk_size_ = 0;
  uint64_t bdat_total_ = 0;        // octets in the transaction's accepted chunks
  std::string_view bdat_failure_;  // one of the replies:: constants, empty while none failed

  BodyWriter body_;
  DataDecoder data_decoder_;
  ChunkDecoder chunk_decoder_;
};

}  // namespace postcore::smtp
