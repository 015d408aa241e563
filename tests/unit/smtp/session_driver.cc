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
  return text;
}

Config default_config() {
  Config config;
  config.hostname = std::string(kHostname);
  return config;
}

SessionRun drive(std::string_view input, const std::vector<size_t>& cuts, Commit commit,
                 const Setup& setup) {
  Config config = default_config();
  RecordingHost host;
  if (setup) setup(config, host);
  Session session(config, host, std::string(kClientAddress));
  if (commit == Commit::inline_succeed) host.commit_inline = &session;
  SessionRun run;
  auto answer_commits = [&] {
    while (session.awaiting_commit() && commit != Commit::never) {
      if (commit == Commit::fail) {
        host.log.push_back("COMMIT-FAILED");
        session.commit_failed();
      } else {
        host.log.push_back("COMMIT " + host.last_queue_id);
        session.commit_succeeded(host.last_queue_id);
      }
    }
  };
  session.start(kNow);
  size_t begin = 0;
  for (size_t cut : cuts) {
    session.feed(input.substr(begin, cut - begin), kNow);
    answer_commits();
    begin = cut;
  }
  session.feed(input.substr(begin), kNow);
  answer_commits();
  run.output = session.output();
  run.log = host.log;
  run.closing = session.closing();
  run.awaiting_commit = session.awaiting_commit();
  return run;
}

std::string ehlo_reply(uint64_t max_size) {
  return "250-mx.test\r\n250-PIPELINING\r\n250-SIZE " + std::to_string(max_size) +
         "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n"
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
