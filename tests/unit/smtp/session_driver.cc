#include "tests/unit/smtp/session_driver.h"

namespace postcore::smtp::smtp_test {

RcptVerdict RecordingHost::check_recipient(std::string_view address,
                                           std::vector<DeliveryTarget>& targets) {
  log.push_back("RCPT " + std::string(address));
  if (const auto expansion = expansions.find(address); expansion != expansions.end()) {
    for (const std::string& target : expansion->second)
      targets.push_back({DeliveryTarget::local, target, false});
  }
  const auto found = verdicts.find(address);
  return found == verdicts.end() ? RcptVerdict::accept : found->second;
}

std::string RecordingHost::message_begin(const Envelope& envelope) {
  std::string line = "BEGIN ";
  line += describe(envelope);
  log.push_back(std::move(line));
  last_envelope = envelope;
  if (refuse_store) return {};
  // Built with push_back: GCC 12 gives a false -Wrestrict for assigning a literal here.
  last_queue_id.clear();
  last_queue_id.push_back('Q');
  last_queue_id += std::to_string(next_id++);
  return last_queue_id;
}

void RecordingHost::message_data(std::string_view chunk) {
  data_call_sizes.push_back(chunk.size());
  if (!log.empty() && log.back().rfind("DATA ", 0) == 0) {
    log.back().append(chunk);
  } else {
    log.push_back("DATA " + std::string(chunk));
  }
}

void RecordingHost::message_end() {
  log.push_back("END");
  if (commit_inline != nullptr) {
    log.push_back("COMMIT " + last_queue_id);
    commit_inline->commit_succeeded(last_queue_id);
  }
}

void RecordingHost::message_abort() {
  if (!log.empty() && log.back().rfind("DATA ", 0) == 0) log.pop_back();
  log.push_back("ABORT");
}

void RecordingHost::authenticate(std::string_view authzid, std::string_view authcid,
                                 std::string_view password) {
  log.push_back("AUTH " + std::string(authzid) + "|" + std::string(authcid) + "|" +
                std::string(password));
  const auto found = auth_results.find(authcid);
  last_auth_result = found == auth_results.end() ? AuthResult::success : found->second;
  if (auth_inline != nullptr) auth_inline->auth_answered(last_auth_result);
}

std::string RecordingHost::describe(const Envelope& envelope) {
  std::string text = "<" + envelope.mail_from + ">";
  for (const Recipient& recipient : envelope.recipients) {
    text += " <" + recipient.address + ">";
    if (recipient.notify != 0) text += ";NOTIFY=" + std::to_string(recipient.notify);
    if (!recipient.orcpt.empty()) text += ";ORCPT=" + recipient.orcpt;
    for (size_t i = 0; i < recipient.targets.size(); i++)
      text += (i == 0 ? "=>" : ",") + recipient.targets[i].address;
  }
  if (envelope.declared_size != 0) text += " SIZE=" + std::to_string(envelope.declared_size);
  static const char* const kBody[] = {"", " BODY=7BIT", " BODY=8BITMIME", " BODY=BINARYMIME"};
  text += kBody[static_cast<int>(envelope.body)];
  if (envelope.smtputf8) text += " SMTPUTF8";
  static const char* const kRet[] = {"", " RET=FULL", " RET=HDRS"};
  text += kRet[static_cast<int>(envelope.ret)];
  if (!envelope.envid.empty()) text += " ENVID=" + envelope.envid;
  if (!envelope.esmtp) text += " HELO";
  if (!envelope.auth_user.empty()) text += " AUTH=" + envelope.auth_user;
  return text;
}

Config default_config() {
  Config config;
  config.hostname = std::string(kHostname);
  return config;
}

SessionRun drive(std::string_view input, const std::vector<size_t>& cuts, Commit commit,
                 AuthAnswer auth, const Setup& setup) {
  Config config = default_config();
  RecordingHost host;
  if (setup) setup(config, host);
  Session session(config, host, std::string(kClientAddress));
  if (commit == Commit::inline_succeed) host.commit_inline = &session;
  if (auth == AuthAnswer::inline_answer) host.auth_inline = &session;
  SessionRun run;
  // An answer releases held input, which may lead to the other kind of wait.
  auto answer = [&] {
    for (;;) {
      if (session.awaiting_commit() && commit != Commit::never) {
        if (commit == Commit::fail) {
          host.log.push_back("COMMIT-FAILED");
          session.commit_failed();
        } else {
          host.log.push_back("COMMIT " + host.last_queue_id);
          session.commit_succeeded(host.last_queue_id);
        }
      } else if (session.awaiting_auth() && auth == AuthAnswer::deferred) {
        session.auth_answered(host.last_auth_result);
      } else {
        return;
      }
    }
  };
  session.start(kNow);
  size_t begin = 0;
  for (size_t cut : cuts) {
    session.feed(input.substr(begin, cut - begin), kNow);
    answer();
    begin = cut;
  }
  session.feed(input.substr(begin), kNow);
  answer();
  run.output = session.output();
  run.log = host.log;
  run.closing = session.closing();
  run.awaiting_commit = session.awaiting_commit();
  return run;
}

std::string ehlo_reply(uint64_t max_size, bool auth) {
  return "250-mx.test\r\n250-PIPELINING\r\n250-SIZE " + std::to_string(max_size) + "\r\n" +
         (auth ? "250-AUTH PLAIN LOGIN\r\n" : "") +
         "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n"
         "250-DSN\r\n250 HELP\r\n";
}

std::string received(std::string_view queue_id, std::string_view recipient,
                     std::string_view protocol, std::string_view helo) {
  std::string text = "Received: from " + std::string(helo) + " (192.0.2.1)\r\n\tby mx.test with " +
                     std::string(protocol) + " id " + std::string(queue_id);
  if (!recipient.empty()) text += "\r\n\tfor <" + std::string(recipient) + ">";
  return text + "; Tue, 14 Nov 2023 22:13:20 +0000\r\n";
}

}  // namespace postcore::smtp::smtp_test
