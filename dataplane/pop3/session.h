// One POP3 server conversation (RFC 1939 with RFC 2449 CAPA, PIPELINING, RESP-CODES and
// AUTH-RESP-CODE, RFC 5034 AUTH with SASL PLAIN, APOP when the greeting carries a
// timestamp), sans-IO: the driver feeds it the bytes the client sent, sends what output()
// holds, and answers the SessionHost calls it makes. No sockets, files, clocks or threads:
// the driver notices the idle timeout (current_timeout()) and calls timed_out().
//
// Answers are given in the order of the commands; while the host has not answered a
// call, further input is held. Deletions take effect only at QUIT, after the host reports
// them durable; a connection that ends any other way deletes nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/pop3/config.h"
#include "dataplane/pop3/session_host.h"
#include "dataplane/smtp/pending_input.h"

namespace postcore::pop3 {

class Session {
 public:
  Session(const Config& config, SessionHost& host);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  void start();                              // queues the +OK greeting
  void feed(std::string_view bytes);         // any split of the input
  std::string& output() { return output_; }  // bytes to send; the caller sends and clears it
  bool closing() const { return closing_; }  // send output, then close

  // The host's answers.
  void login_answered(LoginResult result);
  void maildrop_opened(MaildropResult result, std::vector<MessageEntry> listing = {});
  // The message's octets, in order, after retrieve(): dot-stuffed into output(); a line
  // end that is a bare LF is sent as CRLF.
  void message_data(std::string_view octets);
  // `ok` false: the message could not be read. Before any octet: -ERR [SYS/TEMP]; after
  // some: the connection is closed (a multi-line answer cannot be taken back).
  void message_end(bool ok);
  void deletes_committed(bool ok);

  // True while retrieve() is answered and the session still wants octets (TOP stops early).
  bool wants_message_data() const { return retrieving_ && !top_done_; }
  bool awaiting_host() const { return awaiting_ != Awaiting::nothing; }
  void timed_out();      // -ERR and closing(); nothing deleted
  void shutting_down();  // -ERR [SYS/TEMP] and closing(); nothing deleted
  std::chrono::seconds current_timeout() const { return config_.limits.idle_timeout; }
  bool logged_in() const { return state_ == State::transaction; }
  const std::string& user() const { return user_; }

  // Input received but not yet processed (a partial line, or what arrived while the host had
  // not answered). The driver stops reading while it is large.
  size_t pending_input() const { return pending_.size(); }

 private:
  enum class State : uint8_t { authorization, transaction, closed };
  enum class Awaiting : uint8_t { nothing, login, maildrop, message, deletes };

  void run();
  bool take_line(std::string_view* line, bool* too_long);
  void handle_line(std::string_view line);
  void handle_authorization(std::string_view verb, std::string_view argument);
  void handle_transaction(std::string_view verb, std::string_view argument);
  void handle_auth(std::string_view argument);
  void handle_sasl_response(std::string_view line);
  void handle_quit();
  void capa();
  void stat();
  void list(std::string_view argument, bool uidl);
  void retrieve(std::string_view argument, bool top);
  void dele(std::string_view argument);
  void rset();
  // The message named by `argument` (1-based, not deleted), or an -ERR given and false.
  bool message_number(std::string_view argument, size_t* index);
  void login(std::string_view user, std::string_view password);
  void error(std::string_view text);  // a bad command: -ERR, counted
  void reply(std::string_view text) { output_ += text; }
  void close_with(std::string_view text);
  void begin_message_data();

  const Config config_;
  SessionHost& host_;
  std::string output_;
  smtp::PendingInput pending_;
  State state_ = State::authorization;
  Awaiting awaiting_ = Awaiting::nothing;
  bool started_ = false;
  bool closing_ = false;
  bool running_ = false;        // inside run(): an answer must not start another
  bool skipping_line_ = false;  // the rest of an over-long line
  bool sasl_plain_ = false;     // the next line is AUTH PLAIN's response
  unsigned errors_ = 0;

  std::string line_;         // the command line being handled; wiped after use
  std::string user_;         // USER's name, then who is logged in
  bool user_given_ = false;  // the last command was a good USER

  std::vector<MessageEntry> listing_;
  std::vector<bool> deleted_;
  uint64_t total_octets_ = 0;  // of the whole listing
  size_t deleted_count_ = 0;
  uint64_t deleted_octets_ = 0;

  // RETR and TOP in progress.
  bool retrieving_ = false;
  bool sent_ok_ = false;  // "+OK" went out: the answer is under way
  size_t retrieve_index_ = 0;
  bool top_ = false;
  uint64_t top_lines_ = 0;  // body lines TOP sends
  bool top_done_ = false;   // TOP has sent what it needs
  bool in_header_ = true;
  uint64_t body_lines_ = 0;
  bool line_start_ = true;    // the next octet starts a line
  uint64_t line_length_ = 0;  // octets of the current line so far
  bool last_cr_ = false;      // the last octet sent was a CR
};

}  // namespace postcore::pop3
