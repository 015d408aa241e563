// The session's command handlers: one function per SMTP verb, each answering exactly once.
#include <charconv>
#include <utility>

#include "common/base64.h"
#include "dataplane/smtp/address.h"
#include "dataplane/smtp/ascii.h"
#include "dataplane/smtp/command_table.h"
#include "dataplane/smtp/ehlo_extensions.h"
#include "dataplane/smtp/esmtp_params.h"
#include "dataplane/smtp/replies.h"
#include "dataplane/smtp/sasl.h"
#include "dataplane/smtp/session.h"

namespace postcore::smtp {
namespace {

constexpr size_t kMaxHeloArgument = 255;

std::string_view skip_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

std::string_view path_error_reply(PathError error, bool sender) {
  switch (error) {
    case PathError::local_part_too_long:
      return sender ? reply::sender_local_part_too_long : reply::recipient_local_part_too_long;
    case PathError::domain_too_long:
      return sender ? reply::sender_domain_too_long : reply::recipient_domain_too_long;
    case PathError::path_too_long:
      return sender ? reply::sender_path_too_long : reply::recipient_path_too_long;
    case PathError::none:
    case PathError::syntax:
      break;
  }
  return sender ? reply::bad_sender : reply::bad_recipient;
}

// RFC 5321 wants a domain or address literal; clients send all sorts, so anything without
// spaces is taken (it is only ever shown, in Received:). Control characters were refused
// with the line.
bool acceptable_helo(std::string_view argument) {
  return !argument.empty() && argument.size() <= kMaxHeloArgument &&
         argument.find(' ') == std::string_view::npos;
}

}  // namespace

void Session::handle_command_line(std::string_view line) {
  line.remove_suffix(1);  // LF
  // A line read during an AUTH exchange is the client's response. It ends the exchange,
  // whatever it holds, unless its handler asks for another. It and an AUTH command (for its
  // initial response) may hold credentials, so pending_ is wiped once they are spent.
  const AuthStep auth_step = std::exchange(auth_step_, AuthStep::none);
  if (auth_step != AuthStep::none || (config_.auth.offered && istarts_with(line, "AUTH "))) {
    wipe_pending_ = true;
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  } else if (config_.bare_line_ending == BareLineEnding::reject) {
    protocol_error(reply::command_bare_lf);
    return;
  }
  for (const char c : line) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet < 0x20 || octet == 0x7F) {
      protocol_error(reply::command_bad_octet);
      return;
    }
  }
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  if (auth_step != AuthStep::none) {
    if (line == "*") return protocol_error(reply::auth_cancelled);  // RFC 4954 4
    return handle_auth_response(auth_step, line);
  }

  const CommandLine command = split_command_line(line);
  switch (command.verb) {
    case Verb::ehlo:
      handle_helo(command.argument, true);
      break;
    case Verb::helo:
      handle_helo(command.argument, false);
      break;
    case Verb::mail:
      handle_mail(command.argument);
      break;
    case Verb::rcpt:
      handle_rcpt(command.argument);
      break;
    case Verb::data:
      handle_data(command.has_argument);
      break;
    case Verb::bdat:
      handle_bdat(command.argument);
      break;
    case Verb::rset:
      if (command.has_argument) {
        protocol_error(reply::no_arguments);
        break;
      }
      reset_transaction();
      reply(reply::ok);
      break;
    case Verb::noop:  // RFC 5321 4.1.1.9: a parameter is allowed and ignored
      reply(reply::ok);
      break;
    case Verb::quit:
      if (command.has_argument) {
        protocol_error(reply::no_arguments);
        break;
      }
      reset_transaction();
      reply_with_hostname("221 2.0.0 ", " Service closing transmission channel");
      closing_ = true;
      break;
    case Verb::vrfy:
      if (command.argument.empty()) {
        protocol_error(reply::vrfy_syntax);
        break;
      }
      reply(reply::cannot_vrfy);
      break;
    case Verb::help:
      handle_help(command.argument);
      break;
    case Verb::auth:
      if (config_.auth.offered) {
        handle_auth(command.argument);
      } else {
        protocol_error(reply::not_implemented);
      }
      break;
    case Verb::not_implemented:
      protocol_error(reply::not_implemented);
      break;
    case Verb::unknown:
      protocol_error(reply::unknown_command);
      break;
  }
}

// EHLO and HELO also end any transaction in progress (RFC 5321 4.1.4).
void Session::handle_helo(std::string_view argument, bool esmtp) {
  if (!acceptable_helo(argument)) {
    protocol_error(esmtp ? reply::ehlo_syntax : reply::helo_syntax);
    return;
  }
  reset_transaction();
  greeted_ = true;
  envelope_.helo.assign(argument);
  envelope_.esmtp = esmtp;
  if (esmtp) {
    append_ehlo_reply(config_, output_);
  } else {
    reply_with_hostname("250 ", "");
  }
}

void Session::handle_mail(std::string_view argument) {
  if (!greeted_) return protocol_error(reply::need_helo);
  if (config_.auth.required && !authenticated()) return protocol_error(reply::auth_required);
  if (in_mail_) return protocol_error(reply::nested_mail);
  if (!istarts_with(argument, "FROM:")) return protocol_error(reply::mail_syntax);
  // A space after the colon is not RFC 5321 but is common; it is harmless to allow.
  const std::string_view text = skip_spaces(argument.substr(5));

  Path path;
  const PathError path_error = parse_path(text, &path);
  if (path_error != PathError::none) return protocol_error(path_error_reply(path_error, true));
  if (path.postmaster) return protocol_error(reply::bad_sender);

  MailParams params;
  const ParamProblem problem =
      parse_mail_params(text.substr(path.length), config_.auth.offered, &params);
  if (problem.error != ParamError::none) return parameter_error(problem);
  if (path.non_ascii && !params.smtputf8) return protocol_error(reply::sender_needs_smtputf8);
  if (params.size_given && params.size > config_.limits.max_message_size) {
    return reply(reply::message_too_big);
  }

  in_mail_ = true;
  envelope_.mail_from.assign(path.mailbox);
  envelope_.declared_size = params.size;
  envelope_.body = params.body;
  envelope_.smtputf8 = params.smtputf8;
  envelope_.ret = params.ret;
  envelope_.envid.assign(params.envid);
  envelope_.recipients.clear();
  envelope_.received_at = now_;
  host_.transaction_started();
  reply(reply::sender_ok);
}

void Session::handle_rcpt(std::string_view argument) {
  if (!in_mail_) return protocol_error(reply::need_mail);
  if (bdat_used_) return protocol_error(reply::rcpt_after_bdat);
  if (!istarts_with(argument, "TO:")) return protocol_error(reply::rcpt_syntax);
  const std::string_view text = skip_spaces(argument.substr(3));

  Path path;
  const PathError path_error = parse_path(text, &path);
  if (path_error != PathError::none) return protocol_error(path_error_reply(path_error, false));
  if (path.null) return protocol_error(reply::bad_recipient);

  RcptParams params;
  const ParamProblem problem = parse_rcpt_params(text.substr(path.length), &params);
  if (problem.error != ParamError::none) return parameter_error(problem);
  if (path.non_ascii && !envelope_.smtputf8) {
    return protocol_error(reply::recipient_needs_smtputf8);
  }
  if (envelope_.recipients.size() >= config_.limits.max_recipients) {
    return reply(reply::too_many_recipients);
  }

  std::vector<DeliveryTarget> targets;
  RcptVerdict verdict = host_.check_recipient(path.mailbox, targets);
  // RFC 5321 4.5.1: "Postmaster" with no domain must always be accepted. The host is asked
  // all the same, for where it goes; when it has no answer, delivery resolves it later.
  if (path.postmaster && verdict != RcptVerdict::accept) {
    verdict = RcptVerdict::accept;
    targets.clear();
  }
  switch (verdict) {
    case RcptVerdict::accept: {
      if (expanded_recipients_ + targets.size() > config_.limits.max_expanded_recipients) {
        reply(reply::too_many_recipients);
        break;
      }
      expanded_recipients_ += targets.size();
      Recipient& recipient = envelope_.recipients.emplace_back();
      recipient.address.assign(path.mailbox);
      recipient.notify = params.notify;
      recipient.orcpt.assign(params.orcpt);
      recipient.targets = std::move(targets);
      reply(reply::recipient_ok);
      break;
    }
    case RcptVerdict::unknown_user:
      reply(reply::recipient_unknown);
      break;
    case RcptVerdict::relay_denied:
      reply(reply::relay_denied);
      break;
    case RcptVerdict::disabled:
      reply(reply::recipient_disabled);
      break;
    case RcptVerdict::temporary_failure:
      reply(reply::recipient_tempfail);
      break;
    case RcptVerdict::mailbox_full:
      reply(reply::recipient_mailbox_full);
      break;
  }
}

// The message is begun before 354 so that a store that cannot take it is answered at once,
// before the client sends the message.
void Session::handle_data(bool has_argument) {
  if (has_argument) return protocol_error(reply::no_arguments);
  if (!in_mail_) return protocol_error(reply::need_mail);
  if (bdat_used_) return protocol_error(reply::data_after_bdat);
  if (envelope_.body == BodyType::binary_mime) {
    return protocol_error(reply::binarymime_needs_bdat);
  }
  if (envelope_.recipients.empty()) return reply(reply::no_valid_recipients);
  if (!begin_message()) return reply(reply::store_unavailable);
  reply(reply::start_data);
  data_decoder_.start(config_.limits.max_text_line,
                      config_.bare_line_ending == BareLineEnding::normalise);
  mode_ = Mode::data;
}

// BDAT <octets> [LAST] (RFC 3030). The chunk's octets follow the command line whatever the
// answer, so every BDAT whose size could be read switches to reading that many octets;
// a refused chunk is answered here and its octets dropped.
//
// When the size cannot be read, neither can the end of the chunk: whatever follows may be
// message data, and reading it as commands could run commands hidden in a message. So the
// answer is 501 and then 421, and the connection closes (RFC 3030 leaves resynchronising
// to the implementation; closing is the only safe way).
void Session::handle_bdat(std::string_view argument) {
  uint64_t size = 0;
  const char* const end = argument.data() + argument.size();
  const auto parsed = argument.empty() ? std::from_chars_result{end, std::errc::invalid_argument}
                                       : std::from_chars(argument.data(), end, size);
  if (parsed.ec != std::errc() || !is_digit(static_cast<unsigned char>(argument.front()))) {
    reply(reply::bdat_syntax);
    close_with("421 4.5.0 ", " Cannot find the end of the BDAT chunk, closing connection");
    return;
  }
  const std::string_view rest(parsed.ptr, static_cast<size_t>(end - parsed.ptr));
  const bool last = !rest.empty() && rest.front() == ' ' && iequals(skip_spaces(rest), "LAST");
  const bool well_formed = rest.empty() || last;

  mode_ = Mode::bdat;
  bdat_remaining_ = size;
  bdat_chunk_size_ = size;
  bdat_last_ = last;
  bdat_discard_ = true;

  if (!in_mail_) {
    protocol_error(well_formed ? reply::need_mail : reply::bdat_syntax);
  } else if (!bdat_failure_.empty()) {
    reply(bdat_failure_);
  } else {
    std::string_view failure;
    if (!well_formed) {
      failure = reply::bdat_syntax;
    } else if (envelope_.recipients.empty()) {
      failure = reply::no_valid_recipients;
    } else if (size > config_.limits.max_message_size - bdat_total_) {
      failure = reply::message_too_big;
    }
    if (failure.empty() && !bdat_used_) {
      // The first chunk starts the message. A store that cannot take it still lets the
      // chunk be read; the faults then answer 451 when it ends.
      if (!begin_message()) body_.open_refused(config_.limits.max_message_size);
      chunk_decoder_.start(envelope_.body != BodyType::binary_mime,
                           config_.bare_line_ending == BareLineEnding::normalise);
    }
    bdat_used_ = true;
    if (failure.empty()) {
      bdat_total_ += size;
      bdat_discard_ = false;
    } else {
      bdat_failure_ = failure;
      body_.discard();
      if (failure == reply::bdat_syntax) {
        protocol_error(failure);
      } else {
        reply(failure);
      }
    }
  }
  if (bdat_discard_ && last && in_mail_) reset_transaction();
  if (size == 0 && !closing_) finish_chunk();
}

// 555 for a parameter this server does not know (RFC 5321 4.1.1.11), 501 for a bad value.
void Session::parameter_error(const ParamProblem& problem) {
  output_ += problem.error == ParamError::unknown ? "555 5.5.4 Unsupported parameter: "
                                                  : "501 5.5.4 Invalid parameter: ";
  output_ += problem.keyword;
  output_ += "\r\n";
  count_protocol_error();
}

// AUTH mechanism [initial-response] (RFC 4954 4), with PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login). The session reads the client's responses and hands the
// credentials to the host; which names and passwords are good is the host's business.
void Session::handle_auth(std::string_view argument) {
  if (!greeted_) return protocol_error(reply::need_helo);
  if (authenticated()) return protocol_error(reply::already_authenticated);
  if (in_mail_) return protocol_error(reply::auth_in_transaction);
  const size_t space = argument.find(' ');
  const std::string_view mechanism = argument.substr(0, space);
  const std::string_view initial =
      space == std::string_view::npos ? std::string_view() : argument.substr(space + 1);
  if (mechanism.empty() || initial.find(' ') != std::string_view::npos) {
    return protocol_error(reply::auth_syntax);
  }
  AuthStep step = AuthStep::none;
  if (iequals(mechanism, "PLAIN")) {
    step = AuthStep::plain;
  } else if (iequals(mechanism, "LOGIN")) {
    step = AuthStep::login_username;  // an initial response is the username
  } else {
    return protocol_error(reply::auth_mechanism_unknown);
  }
  if (space != std::string_view::npos) {
    // "=" stands for an empty initial response, which could not be told from none.
    return handle_auth_response(step, initial == "=" ? std::string_view() : initial);
  }
  auth_step_ = step;
  reply(step == AuthStep::plain ? reply::auth_plain_challenge : reply::auth_username_challenge);
}

// One base64 response of the exchange: PLAIN's message, LOGIN's username or its password.
// Every way out wipes the decoded text; the host gets views of it, and must copy what it
// keeps.
void Session::handle_auth_response(AuthStep step, std::string_view response) {
  // Decoding then never reallocates, which would leave a copy in the freed block: the
  // decoded text is shorter than the line it came in.
  auth_decoded_.reserve(config_.limits.max_command_line);
  std::string_view problem;
  PlainCredentials plain;
  if (!decode_base64(response, auth_decoded_, Base64Padding::required)) {
    problem = reply::auth_cannot_decode;
  } else if (step == AuthStep::plain) {
    if (parse_plain(auth_decoded_, &plain)) {
      auth_authcid_.assign(plain.authcid);
      authenticate(plain.authzid, plain.password);
    } else {
      problem = reply::auth_malformed;
    }
  } else if (!valid_sasl_field(auth_decoded_)) {
    problem = reply::auth_malformed;
  } else if (step == AuthStep::login_username) {
    auth_authcid_.assign(auth_decoded_);
    auth_step_ = AuthStep::login_password;
    reply(reply::auth_password_challenge);
  } else {
    authenticate({}, auth_decoded_);
  }
  wipe_string(auth_decoded_);
  if (!problem.empty()) protocol_error(problem);
}

// The host may answer from inside the call, so the wait begins before it.
void Session::authenticate(std::string_view authzid, std::string_view password) {
  awaiting_auth_ = true;
  host_.authenticate(authzid, auth_authcid_, password);
}

void Session::handle_help(std::string_view topic) {
  const std::string_view text = help_text(topic);
  if (text.empty()) return protocol_error(reply::help_topic_unknown);
  output_ += "214 2.0.0 ";
  output_ += text;
  output_ += "\r\n";
}

}  // namespace postcore::smtp
