// The session's input loop, message reception (DATA and BDAT), commit and AUTH answers and
// closing. The command handlers, AUTH's included, are in session_commands.cc.
#include "dataplane/smtp/session.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "dataplane/smtp/received_header.h"
#include "dataplane/smtp/replies.h"
#include "dataplane/smtp/sasl.h"

namespace postcore::smtp {
namespace {

// When one message has several faults, the answer is chosen by this fixed order, never by
// which fault was seen first, so it does not depend on how the input was split.
std::string_view body_fault_reply(uint8_t faults) {
  if (faults & body_fault_store_refused) return reply::store_unavailable;
  if (faults & body_fault_too_big) return reply::message_too_big;
  if (faults & body_fault_bare_line_ending) return reply::bare_line_ending;
  return reply::text_line_too_long;
}

}  // namespace

Session::Session(const Config& config, SessionHost& host, std::string client_address)
    : config_(config), host_(host) {
  envelope_.client_address = std::move(client_address);
}

// Input the session never read, because it closed first, may hold credentials.
Session::~Session() {
  if (!config_.auth.offered) return;
  pending_.clear();
  pending_.wipe_spent();
}

void Session::start(int64_t now_unix) {
  if (started_) return;
  started_ = true;
  now_ = now_unix;
  output_ += "220 ";
  output_ += config_.hostname;
  output_ += " ESMTP ready\r\n";
  process_pending();
}

// Input is processed where it lies whenever possible; only what cannot be processed yet (a
// partial command line, or anything that arrives while a commit or AUTH answer is
// outstanding) is copied into pending_.
void Session::feed(std::string_view bytes, int64_t now_unix) {
  now_ = now_unix;
  if (closing_) return;
  if (!started_ || awaiting_answer()) {
    pending_.append(bytes);
    return;
  }
  if (!pending_.empty()) {
    size_t take = bytes.size();
    if (mode_ == Mode::command) {
      // Complete the partial command line only; the rest can then be read in place. Taking
      // at most a line's worth keeps pending_ bounded when no LF comes.
      const void* lf = std::memchr(bytes.data(), '\n', bytes.size());
      if (lf != nullptr)
        take = static_cast<size_t>(static_cast<const char*>(lf) - bytes.data()) + 1;
      take = std::min(take, config_.limits.max_command_line);
    }
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    process_pending();
    if (!pending_.empty()) {
      pending_.append(bytes);
      return;
    }
  }
  if (bytes.empty() || closing_) return;
  running_ = true;
  const size_t used = run(bytes);
  running_ = false;
  if (used < bytes.size() && !closing_) pending_.append(bytes.substr(used));
}

void Session::process_pending() {
  if (running_ || pending_.empty() || closing_) return;
  running_ = true;
  const size_t used = run(pending_.view());
  running_ = false;
  if (closing_) {
    pending_.clear();
  } else {
    pending_.consume(used);
  }
  if (wipe_pending_) {
    pending_.wipe_spent();
    wipe_pending_ = false;
  }
}

// Processes input until it runs out, a commit or AUTH answer is awaited, or the session
// closes; returns how much was consumed. What is left is at most a partial command line (or,
// when stopped, whatever followed).
size_t Session::run(std::string_view input) {
  size_t pos = 0;
  while (pos < input.size() && !closing_ && !awaiting_answer()) {
    const std::string_view rest = input.substr(pos);
    switch (mode_) {
      case Mode::command: {
        const size_t window = std::min(rest.size(), config_.limits.max_command_line);
        const void* lf = std::memchr(rest.data(), '\n', window);
        if (lf == nullptr) {
          if (rest.size() < config_.limits.max_command_line) return pos;
          // The reply comes now, not when the line finally ends, so no bytes of it are kept.
          mode_ = Mode::discard_line;
          pos += window;
          if (auth_step_ == AuthStep::none) {
            protocol_error(reply::command_too_long);
          } else {
            auth_step_ = AuthStep::none;  // RFC 4954 4: the exchange fails
            wipe_pending_ = true;
            protocol_error(reply::auth_line_too_long);
          }
          break;
        }
        const size_t length = static_cast<size_t>(static_cast<const char*>(lf) - rest.data()) + 1;
        pos += length;
        handle_command_line(rest.substr(0, length));
        break;
      }
      case Mode::discard_line: {
        const void* lf = std::memchr(rest.data(), '\n', rest.size());
        if (lf == nullptr) return input.size();
        pos += static_cast<size_t>(static_cast<const char*>(lf) - rest.data()) + 1;
        mode_ = Mode::command;
        break;
      }
      case Mode::data:
        pos += data_decoder_.decode(rest, body_);
        if (data_decoder_.done()) finish_data();
        break;
      case Mode::bdat: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(bdat_remaining_, rest.size()));
        if (!bdat_discard_) chunk_decoder_.decode(rest.substr(0, take), body_);
        bdat_remaining_ -= take;
        pos += take;
        if (bdat_remaining_ == 0) finish_chunk();
        break;
      }
    }
  }
  return pos;
}

std::string& Session::output() {
  return output_;
}
bool Session::closing() const {
  return closing_;
}
bool Session::awaiting_commit() const {
  return awaiting_commit_;
}
bool Session::in_transaction() const {
  return in_mail_;
}
bool Session::awaiting_auth() const {
  return awaiting_auth_;
}
bool Session::authenticated() const {
  return !envelope_.auth_user.empty();
}
const std::string& Session::auth_user() const {
  return envelope_.auth_user;
}

std::chrono::seconds Session::current_timeout() const {
  return mode_ == Mode::data || mode_ == Mode::bdat ? config_.limits.data_timeout
                                                    : config_.limits.command_timeout;
}

void Session::commit_succeeded(std::string_view queue_id) {
  if (!awaiting_commit_) return;
  awaiting_commit_ = false;
  if (closing_) return;
  output_ += "250 2.0.0 Ok: queued as ";
  output_ += queue_id;
  output_ += "\r\n";
  reset_transaction();
  process_pending();
}

void Session::commit_failed() {
  if (!awaiting_commit_) return;
  awaiting_commit_ = false;
  if (closing_) return;
  reply(reply::store_unavailable);
  reset_transaction();
  process_pending();
}

// auth_authcid_ is left as it is: when the answer comes from inside authenticate(), the host
// may still be looking at it.
void Session::auth_answered(AuthResult result, std::string_view user) {
  if (!awaiting_auth_) return;
  awaiting_auth_ = false;
  if (closing_) return;
  switch (result) {
    case AuthResult::success:
      if (user.empty())
        envelope_.auth_user = auth_authcid_;
      else
        envelope_.auth_user.assign(user);
      reply(reply::auth_succeeded);
      break;
    case AuthResult::invalid:
      protocol_error(reply::auth_invalid);
      break;
    case AuthResult::temporary_failure:
      reply(reply::auth_tempfail);
      break;
  }
  process_pending();
}

void Session::timed_out() {
  close_with("421 4.4.2 ", " Timeout exceeded, closing connection");
}

void Session::shutting_down() {
  close_with("421 4.3.2 ", " Service shutting down, closing connection");
}

// Asks the host to start a message and gives it the Received: header. The header does not
// count against the size limit: the client did not send it.
bool Session::begin_message() {
  const std::string queue_id = host_.message_begin(envelope_);
  if (queue_id.empty()) return false;
  body_.open(&host_, config_.limits.max_message_size);
  ReceivedFields fields;
  fields.helo = envelope_.helo;
  fields.client_address = envelope_.client_address;
  fields.hostname = config_.hostname;
  fields.protocol = envelope_.smtputf8 ? "UTF8SMTP" : envelope_.esmtp ? "ESMTP" : "SMTP";
  fields.queue_id = queue_id;
  if (envelope_.recipients.size() == 1) fields.recipient = envelope_.recipients[0].address;
  fields.time = now_;
  scratch_.clear();
  append_received_header(scratch_, fields);
  host_.message_data(scratch_);
  return true;
}

void Session::finish_data() {
  mode_ = Mode::command;
  end_message();
}

void Session::finish_chunk() {
  mode_ = Mode::command;
  if (bdat_discard_) return;  // refused when the command was read; already answered
  if (bdat_last_) chunk_decoder_.finish(body_);
  if (body_.faults() != 0) {
    const std::string_view answer = body_fault_reply(body_.faults());
    reply(answer);
    if (bdat_last_) {
      reset_transaction();
    } else {
      bdat_failure_ = answer;
    }
    return;
  }
  if (bdat_last_) {
    end_message();
    return;
  }
  char digits[24];
  const auto converted = std::to_chars(digits, digits + sizeof digits, bdat_chunk_size_);
  output_ += "250 2.0.0 ";
  output_.append(digits, converted.ptr);
  output_ += " octets received\r\n";
}

// After the last octet of a message: refuse it for its faults, or hand it to the host and
// wait for the commit, which may come from inside message_end().
void Session::end_message() {
  if (body_.faults() != 0) {
    reply(body_fault_reply(body_.faults()));
    reset_transaction();
    return;
  }
  awaiting_commit_ = true;
  body_.finish();
}

void Session::reply_with_hostname(std::string_view code, std::string_view text) {
  output_ += code;
  output_ += config_.hostname;
  output_ += text;
  output_ += "\r\n";
}

void Session::protocol_error(std::string_view text) {
  reply(text);
  count_protocol_error();
}

// Called after the error's own reply, so the client sees why before the 421.
void Session::count_protocol_error() {
  ++errors_;
  if (errors_ >= config_.limits.max_errors) {
    close_with("421 4.7.0 ", " Too many errors, closing connection");
  }
}

void Session::close_with(std::string_view code, std::string_view text) {
  if (closing_) return;
  reset_transaction();
  reply_with_hostname(code, text);
  closing_ = true;
  mode_ = Mode::command;
  auth_step_ = AuthStep::none;
}

void Session::reset_transaction() {
  body_.discard();
  in_mail_ = false;
  bdat_used_ = false;
  bdat_total_ = 0;
  bdat_failure_ = {};
  envelope_.mail_from.clear();
  envelope_.declared_size = 0;
  envelope_.body = BodyType::unspecified;
  envelope_.smtputf8 = false;
  envelope_.ret = DsnRet::unspecified;
  envelope_.envid.clear();
  envelope_.recipients.clear();
  expanded_recipients_ = 0;
  envelope_.received_at = 0;
}

}  // namespace postcore::smtp
