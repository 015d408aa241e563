#include "dataplane/pop3/session.h"

#include <string.h>

#include <algorithm>
#include <charconv>

#include "common/base64.h"
#include "dataplane/smtp/sasl.h"

namespace postcore::pop3 {
namespace {

bool equals_ascii_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// A decimal number of at most 18 digits (no sign, no spaces).
bool parse_number(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  std::from_chars(text.data(), text.data() + text.size(), *out);
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool has_control_octets(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool lower_hex(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Session::Session(const Config& config, SessionHost& host) : config_(config), host_(host) {}

Session::~Session() {
  wipe_string(line_);
}

void Session::start() {
  if (started_) return;
  started_ = true;
  reply("+OK " + config_.hostname + " POP3 ready.");
  if (!config_.apop_timestamp.empty()) reply(" " + config_.apop_timestamp);
  reply("\r\n");
}

void Session::feed(std::string_view bytes) {
  if (closing_) return;
  pending_.append(bytes);
  if (!running_) run();
}

void Session::run() {
  running_ = true;
  std::string_view line;
  bool too_long = false;
  while (!closing_ && awaiting_ == Awaiting::nothing && take_line(&line, &too_long)) {
    if (too_long) {
      error("Line too long.");
      continue;
    }
    // A line before login may hold a password (the PASS that logs in too): no copy of it is
    // left behind.
    const bool may_hold_password = state_ == State::authorization;
    handle_line(line);
    if (may_hold_password) {
      wipe_string(line_);
      pending_.wipe_spent();
    }
  }
  running_ = false;
}

// The next complete line (without its CRLF or bare LF), consumed from pending_; a line over
// the limit sets *too_long once and its rest is skipped as it arrives.
bool Session::take_line(std::string_view* line, bool* too_long) {
  *too_long = false;
  for (;;) {
    const std::string_view in = pending_.view();
    const size_t lf = in.find('\n');
    if (lf == std::string_view::npos) {
      if (in.size() < config_.limits.max_command_line) return false;
      pending_.consume(in.size());  // over-long: what has come is dropped
      if (skipping_line_) return false;
      skipping_line_ = true;
      *too_long = true;
      return true;
    }
    if (skipping_line_) {
      pending_.consume(lf + 1);
      skipping_line_ = false;
      continue;
    }
    if (lf + 1 > config_.limits.max_command_line) {
      pending_.consume(lf + 1);
      *too_long = true;
      return true;
    }
    line_.assign(in.substr(0, lf > 0 && in[lf - 1] == '\r' ? lf - 1 : lf));
    *line = line_;
    pending_.consume(lf + 1);
    return true;
  }
}

void Session::handle_line(std::string_view line) {
  if (sasl_plain_) {
    sasl_plain_ = false;
    handle_sasl_response(line);
    return;
  }
  if (has_control_octets(line)) {
    error("Control characters in the command.");
    return;
  }
  const size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view argument =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (equals_ascii_nocase(verb, "CAPA")) {
    capa();
  } else if (equals_ascii_nocase(verb, "QUIT")) {
    handle_quit();
  } else if (state_ == State::authorization) {
    handle_authorization(verb, argument);
  } else {
    handle_transaction(verb, argument);
  }
}

void Session::capa() {
  reply(
      "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
      "AUTH-RESP-CODE\r\n");
  if (state_ == State::authorization && config_.plaintext_logins) reply("USER\r\nSASL PLAIN\r\n");
  reply(".\r\n");
}

void Session::handle_authorization(std::string_view verb, std::string_view argument) {
  const bool after_user = user_given_;
  user_given_ = false;
  if (equals_ascii_nocase(verb, "USER")) {
    if (!config_.plaintext_logins) {
      reply("-ERR [AUTH] Plaintext authentication is not allowed on this connection.\r\n");
      return;
    }
    argument = trim_spaces(argument);
    if (argument.empty()) return error("USER needs a name.");
    user_.assign(argument);
    user_given_ = true;
    reply("+OK\r\n");
  } else if (equals_ascii_nocase(verb, "PASS")) {
    if (!config_.plaintext_logins) {
      reply("-ERR [AUTH] Plaintext authentication is not allowed on this connection.\r\n");
      return;
    }
    if (!after_user) return error("Give USER first.");
    login(user_, argument);  // the rest of the line: a password may hold spaces
  } else if (equals_ascii_nocase(verb, "APOP")) {
    if (config_.apop_timestamp.empty()) return error("APOP is not available.");
    const size_t space = argument.rfind(' ');
    const std::string_view name = trim_spaces(argument.substr(0, space));
    const std::string_view digest =
        space == std::string_view::npos ? std::string_view() : argument.substr(space + 1);
    if (name.empty() || !lower_hex(digest, 32)) return error("APOP needs a name and a digest.");
    user_.assign(name);
    awaiting_ = Awaiting::login;
    host_.authenticate_apop(user_, config_.apop_timestamp, digest);
  } else if (equals_ascii_nocase(verb, "AUTH")) {
    handle_auth(argument);
  } else if (equals_ascii_nocase(verb, "STAT") || equals_ascii_nocase(verb, "LIST") ||
             equals_ascii_nocase(verb, "RETR") || equals_ascii_nocase(verb, "DELE") ||
             equals_ascii_nocase(verb, "NOOP") || equals_ascii_nocase(verb, "RSET") ||
             equals_ascii_nocase(verb, "TOP") || equals_ascii_nocase(verb, "UIDL")) {
    error("Log in first.");
  } else {
    error("Unknown command.");
  }
}

// RFC 5034: AUTH alone lists the mechanisms; AUTH PLAIN takes an initial response or asks
// for one with "+ ".
void Session::handle_auth(std::string_view argument) {
  argument = trim_spaces(argument);
  if (argument.empty()) {
    reply(config_.plaintext_logins ? "+OK\r\nPLAIN\r\n.\r\n" : "+OK\r\n.\r\n");
    return;
  }
  const size_t space = argument.find(' ');
  const std::string_view mechanism = argument.substr(0, space);
  if (!equals_ascii_nocase(mechanism, "PLAIN")) return error("Unsupported mechanism.");
  if (!config_.plaintext_logins) {
    reply("-ERR [AUTH] Plaintext authentication is not allowed on this connection.\r\n");
    return;
  }
  if (space == std::string_view::npos) {
    sasl_plain_ = true;
    reply("+ \r\n");
    return;
  }
  handle_sasl_response(trim_spaces(argument.substr(space + 1)));
}

void Session::handle_sasl_response(std::string_view line) {
  if (line == "*") {
    reply("-ERR Authentication aborted.\r\n");
    return;
  }
  std::string decoded;
  decoded.reserve(line.size());
  smtp::PlainCredentials plain;
  if (line == "=") line = {};  // RFC 5034 4: an empty initial response
  if (!decode_base64(line, decoded, Base64Padding::required)) {
    wipe_string(decoded);
    return error("Invalid base64 data.");
  }
  if (!smtp::parse_plain(decoded, &plain) ||
      (!plain.authzid.empty() && plain.authzid != plain.authcid)) {
    wipe_string(decoded);
    reply("-ERR [AUTH] Authentication failed.\r\n");
    return;
  }
  user_.assign(plain.authcid);
  login(user_, plain.password);
  wipe_string(decoded);
}

void Session::login(std::string_view user, std::string_view password) {
  awaiting_ = Awaiting::login;
  host_.authenticate(user, password);
}

void Session::login_answered(LoginResult result) {
  if (closing_ || awaiting_ != Awaiting::login) return;
  switch (result) {
    case LoginResult::success:
      awaiting_ = Awaiting::maildrop;
      host_.open_maildrop(user_);
      return;  // maildrop_opened() goes on
    case LoginResult::invalid:
      reply("-ERR [AUTH] Authentication failed.\r\n");
      break;
    case LoginResult::temporary_failure:
      reply("-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
      break;
  }
  user_.clear();
  awaiting_ = Awaiting::nothing;
  if (!running_) run();
}

void Session::maildrop_opened(MaildropResult result, std::vector<MessageEntry> listing) {
  if (closing_ || awaiting_ != Awaiting::maildrop) return;
  awaiting_ = Awaiting::nothing;
  switch (result) {
    case MaildropResult::opened:
      state_ = State::transaction;
      listing_ = std::move(listing);
      deleted_.assign(listing_.size(), false);
      for (const MessageEntry& m : listing_) total_octets_ += m.size;
      reply("+OK Logged in.\r\n");
      break;
    case MaildropResult::in_use:
      reply("-ERR [IN-USE] The mailbox is in use by another session.\r\n");
      break;
    case MaildropResult::temporary_failure:
      reply("-ERR [SYS/TEMP] The mailbox cannot be opened now, try again later.\r\n");
      break;
    case MaildropResult::permanent_failure:
      reply("-ERR [SYS/PERM] The mailbox cannot be opened.\r\n");
      break;
  }
  if (state_ != State::transaction) user_.clear();
  if (!running_) run();
}

void Session::handle_transaction(std::string_view verb, std::string_view argument) {
  if (equals_ascii_nocase(verb, "STAT")) {
    if (!trim_spaces(argument).empty()) return error("STAT takes no argument.");
    stat();
  } else if (equals_ascii_nocase(verb, "LIST")) {
    list(argument, false);
  } else if (equals_ascii_nocase(verb, "UIDL")) {
    list(argument, true);
  } else if (equals_ascii_nocase(verb, "RETR")) {
    retrieve(argument, false);
  } else if (equals_ascii_nocase(verb, "TOP")) {
    retrieve(argument, true);
  } else if (equals_ascii_nocase(verb, "DELE")) {
    dele(argument);
  } else if (equals_ascii_nocase(verb, "NOOP")) {
    reply("+OK\r\n");
  } else if (equals_ascii_nocase(verb, "RSET")) {
    rset();
  } else if (equals_ascii_nocase(verb, "USER") || equals_ascii_nocase(verb, "PASS") ||
             equals_ascii_nocase(verb, "APOP") || equals_ascii_nocase(verb, "AUTH")) {
    error("Already logged in.");
  } else {
    error("Unknown command.");
  }
}

bool Session::message_number(std::string_view argument, size_t* index) {
  uint64_t n = 0;
  if (!parse_number(argument, &n)) {
    error("Invalid message number.");
    return false;
  }
  if (n == 0 || n > listing_.size()) {
    reply("-ERR There is no message " + std::string(argument) + ".\r\n");
    return false;
  }
  if (deleted_[n - 1]) {
    reply("-ERR Message " + std::string(argument) + " is deleted.\r\n");
    return false;
  }
  *index = n - 1;
  return true;
}

void Session::stat() {
  reply("+OK " + std::to_string(listing_.size() - deleted_count_) + " " +
        std::to_string(total_octets_ - deleted_octets_) + "\r\n");
}

void Session::list(std::string_view argument, bool uidl) {
  argument = trim_spaces(argument);
  auto value = [&](size_t i) { return uidl ? listing_[i].uidl : std::to_string(listing_[i].size); };
  if (!argument.empty()) {
    size_t i = 0;
    if (!message_number(argument, &i)) return;
    reply("+OK " + std::to_string(i + 1) + " " + value(i) + "\r\n");
    return;
  }
  if (uidl) {
    reply("+OK\r\n");
  } else {
    reply("+OK " + std::to_string(listing_.size() - deleted_count_) + " messages\r\n");
  }
  for (size_t i = 0; i < listing_.size(); i++) {
    if (deleted_[i]) continue;
    output_ += std::to_string(i + 1);
    output_ += ' ';
    output_ += value(i);
    output_ += "\r\n";
  }
  reply(".\r\n");
}

void Session::dele(std::string_view argument) {
  size_t i = 0;
  if (!message_number(trim_spaces(argument), &i)) return;
  deleted_[i] = true;
  deleted_count_++;
  deleted_octets_ += listing_[i].size;
  reply("+OK Marked to be deleted.\r\n");
}

void Session::rset() {
  deleted_.assign(listing_.size(), false);
  deleted_count_ = 0;
  deleted_octets_ = 0;
  reply("+OK\r\n");
}

void Session::retrieve(std::string_view argument, bool top) {
  argument = trim_spaces(argument);
  std::string_view number = argument;
  uint64_t lines = 0;
  if (top) {
    const size_t space = argument.find(' ');
    if (space == std::string_view::npos ||
        !parse_number(trim_spaces(argument.substr(space + 1)), &lines))
      return error("TOP needs a message number and a line count.");
    number = argument.substr(0, space);
  }
  size_t i = 0;
  if (!message_number(number, &i)) return;
  retrieving_ = true;
  sent_ok_ = false;
  retrieve_index_ = i;
  top_ = top;
  top_lines_ = lines;
  top_done_ = false;
  in_header_ = true;
  body_lines_ = 0;
  line_start_ = true;
  line_length_ = 0;
  last_cr_ = false;
  awaiting_ = Awaiting::message;
  host_.retrieve(i);
}

void Session::begin_message_data() {
  sent_ok_ = true;
  if (top_)
    reply("+OK\r\n");
  else
    reply("+OK " + std::to_string(listing_[retrieve_index_].size) + " octets\r\n");
}

// Dot-stuffs the octets into output_ (RFC 1939 3), turning a bare LF into CRLF, and counts
// the header and body lines TOP needs.
void Session::message_data(std::string_view octets) {
  if (!retrieving_ || closing_) return;
  if (!sent_ok_) begin_message_data();
  size_t i = 0;
  while (i < octets.size() && !top_done_) {
    if (line_start_) {
      if (octets[i] == '.') output_ += '.';
      line_start_ = false;
    }
    const void* found = memchr(octets.data() + i, '\n', octets.size() - i);
    const size_t end = found ? static_cast<size_t>(static_cast<const char*>(found) - octets.data())
                             : octets.size();
    if (end > i) {
      output_.append(octets.data() + i, end - i);
      line_length_ += end - i;
      last_cr_ = octets[end - 1] == '\r';
    }
    if (!found) break;
    output_ += last_cr_ ? "\n" : "\r\n";
    const bool empty = line_length_ == 0 || (line_length_ == 1 && last_cr_);
    if (in_header_) {
      if (empty) in_header_ = false;
      top_done_ = top_ && !in_header_ && top_lines_ == 0;
    } else {
      body_lines_++;
      top_done_ = top_ && body_lines_ >= top_lines_;
    }
    line_start_ = true;
    line_length_ = 0;
    last_cr_ = false;
    i = end + 1;
  }
}

void Session::message_end(bool ok) {
  if (!retrieving_ || closing_) return;
  retrieving_ = false;
  awaiting_ = Awaiting::nothing;
  if (!ok) {
    if (sent_ok_) {
      // Part of the answer is out: there is no way to say it broke but to hang up.
      closing_ = true;
      state_ = State::closed;
      return;
    }
    reply("-ERR [SYS/TEMP] The message cannot be read now.\r\n");
  } else {
    if (!sent_ok_) begin_message_data();
    if (!line_start_) output_ += last_cr_ ? "\n" : "\r\n";  // the last line ends
    reply(".\r\n");
  }
  if (!running_) run();
}

void Session::handle_quit() {
  if (state_ != State::transaction || deleted_count_ == 0) {
    close_with("+OK Logging out.\r\n");
    return;
  }
  std::vector<size_t> indices;
  indices.reserve(deleted_count_);
  for (size_t i = 0; i < deleted_.size(); i++)
    if (deleted_[i]) indices.push_back(i);
  awaiting_ = Awaiting::deletes;
  host_.commit_deletes(indices);
}

void Session::deletes_committed(bool ok) {
  if (closing_ || awaiting_ != Awaiting::deletes) return;
  awaiting_ = Awaiting::nothing;
  close_with(ok ? "+OK Logging out, messages deleted.\r\n"
                : "-ERR [SYS/TEMP] The deleted messages could not be removed; none was.\r\n");
}

void Session::error(std::string_view text) {
  reply("-ERR ");
  reply(text);
  reply("\r\n");
  if (++errors_ >= config_.limits.max_errors) close_with("-ERR Too many bad commands.\r\n");
}

void Session::close_with(std::string_view text) {
  reply(text);
  closing_ = true;
  state_ = State::closed;
  pending_.clear();
}

void Session::timed_out() {
  if (!closing_) close_with("-ERR Disconnected for inactivity.\r\n");
}

void Session::shutting_down() {
  if (!closing_) close_with("-ERR [SYS/TEMP] The server is shutting down.\r\n");
}

}  // namespace postcore::pop3
