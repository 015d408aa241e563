// Test support for the SMTP session: a SessionHost that records every call, and a driver that
// feeds a session its input cut at chosen places and answers commits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/smtp/session.h"

namespace postcore::smtp::smtp_test {

inline constexpr int64_t kNow = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
inline constexpr std::string_view kHostname = "mx.test";
inline constexpr std::string_view kClientAddress = "192.0.2.1";

// Records host calls as text lines:
//   RCPT <address>        check_recipient
//   BEGIN <envelope>      message_begin (see describe(); "=>a,b" after a recipient lists
//                         its delivery targets)
//   DATA <bytes>          message_data; consecutive calls are merged, so the log does not
//                         depend on how the session chose to cut the message into chunks
//   END / ABORT           message_end / message_abort; ABORT also drops the DATA line
//                         before it, as a real store drops the data
//   COMMIT <id> / COMMIT-FAILED   the driver's answers
//   AUTH <authzid>|<authcid>|<password>   authenticate
class RecordingHost : public SessionHost {
 public:
  RcptVerdict check_recipient(std::string_view address,
                              std::vector<DeliveryTarget>& targets) override;
  std::string message_begin(const Envelope& envelope) override;
  void message_data(std::string_view chunk) override;
  void message_end() override;
  void message_abort() override;
  void authenticate(std::string_view authzid, std::string_view authcid,
                    std::string_view password) override;

  static std::string describe(const Envelope& envelope);

  std::vector<std::string> log;
  std::map<std::string, RcptVerdict, std::less<>> verdicts;  // accept when absent
  // Where an address goes (local targets), given whatever the verdict is.
  std::map<std::string, std::vector<std::string>, std::less<>> expansions;
  bool refuse_store = false;         // message_begin returns ""
  Session* commit_inline = nullptr;  // commit_succeeded from inside message_end
  std::map<std::string, AuthResult, std::less<>> auth_results;  // by authcid; success when absent
  AuthResult last_auth_result = AuthResult::success;            // for the last authenticate
  Session* auth_inline = nullptr;  // auth_answered from inside authenticate
  std::string last_queue_id;
  Envelope last_envelope;
  std::vector<size_t> data_call_sizes;
  int next_id = 1;
};

enum class Commit { succeed, fail, never, inline_succeed };

// When the host answers authenticate() (with what auth_results says): by the driver after
// each feed, as an authentication service on another thread would; from inside the call;
// or not at all.
enum class AuthAnswer { deferred, inline_answer, never };

struct SessionRun {
  std::string output;
  std::vector<std::string> log;
  bool closing = false;
  bool awaiting_commit = false;
};

using Setup = std::function<void(Config&, RecordingHost&)>;

Config default_config();

// Starts a session, feeds input in pieces ending at each of cuts (ascending offsets), and
// answers each commit and AUTH as soon as the session awaits one.
SessionRun drive(std::string_view input, const std::vector<size_t>& cuts, Commit commit,
                 AuthAnswer auth, const Setup& setup);

// The EHLO reply for the default configuration with this SIZE, and with AUTH offered or not.
std::string ehlo_reply(uint64_t max_size = 50ull << 20, bool auth = false);

// The Received: header the session writes for a message.
std::string received(std::string_view queue_id, std::string_view recipient = "b@example.net",
                     std::string_view protocol = "ESMTP", std::string_view helo = "client.test");

}  // namespace postcore::smtp::smtp_test
