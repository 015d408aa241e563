// LoginChecker: checks login passwords for every core of the dataplane. The account comes
// from the directory snapshot the caller passes; the hash is checked on a small pool of
// worker threads (auth::PasswordVerifier), never on a reactor, so a slow hash cannot stall
// the other connections of a core. When a password matched a hash in an older scheme, the
// yescrypt hash made from it is sent to the control plane (account.rehash), which alone
// writes the store; from its next snapshot on the account has the new hash.
//
// Failed logins are counted per client address and per account (login_throttle.h): an
// answer from a client or for an account with failures behind it waits, on a thread of
// the checker's own (never a reactor's, never a hashing worker's), and a client address with
// too many is refused without a check.
//
// Threads: check() from any thread. Its completion runs on a worker thread or the delay
// thread, or on the caller's thread before check() returns when the answer needs no hashing,
// no delay, or the queue is full. Rehash reports go out from one thread of their own, best
// effort: when the control plane is down the report is dropped and the next login tries
// again.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/profile.h"
#include "common/result.h"
#include "control/auth/password_verifier.h"
#include "control/directory/directory.h"
#include "dataplane/server/login_throttle.h"

namespace postcore::server {

// Whether a password may travel in the clear from `peer_address` ([auth] plaintext).
bool plaintext_allowed(PlaintextAuth setting, std::string_view peer_address);

// refused: too many failed logins from the client's address; not checked.
enum class LoginOutcome : uint8_t { success, invalid, temporary_failure, refused };

struct LoginAnswer {
  LoginOutcome outcome = LoginOutcome::temporary_failure;
  std::string user;  // success: the account's address, "name@canonical-domain"
};

class LoginChecker {
 public:
  using Done = std::function<void(LoginAnswer)>;

  // `control_socket`: where rehashed passwords are reported; empty: they are not.
  static Result<std::unique_ptr<LoginChecker>> start(const AuthSettings& settings,
                                                     std::string control_socket);
  ~LoginChecker();

  // `login` as the client typed it ("alice@example.com", any case, any of the domain's
  // names, or an account alias); `authzid` must be empty or name the same account.
  // `service` is the directory::Service bit the login is for: an account without it is
  // refused like a wrong password, after the password was checked, so the answer tells
  // nothing about which accounts exist. `directory` may be null (no snapshot yet).
  // `client_address`: the client's IP, as text.
  void check(std::shared_ptr<const directory::Directory> directory, std::string_view authzid,
             std::string_view login, std::string_view password, uint8_t service,
             std::string_view client_address, Done done);

  // Stops the threads. Checks still queued complete with temporary_failure; answers still
  // being delayed are given at once.
  void shutdown();

 private:
  struct Rehash {
    std::string address, old_hash, new_hash;
  };

  struct Delayed {
    std::chrono::steady_clock::time_point due;
    Done done;
    LoginAnswer answer;
  };

  LoginChecker(std::unique_ptr<auth::PasswordVerifier> verifier, std::string control_socket,
               std::string decoy_hash, const AuthSettings& settings);
  void report(Rehash rehash);
  void run_reporter();
  // Gives `answer` to `done` at `due`: now, on this thread, when it is not in the future.
  void answer_at(std::chrono::steady_clock::time_point due, Done done, LoginAnswer answer);
  void run_delays();

  std::unique_ptr<auth::PasswordVerifier> verifier_;
  const std::string control_socket_;
  // What an unknown login is checked against, so that it costs as much as a known one.
  const std::string decoy_hash_;

  std::mutex mutex_;
  std::condition_variable reports_ready_;
  std::deque<Rehash> reports_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  std::thread reporter_;

  LoginThrottle throttle_;
  std::condition_variable delays_changed_;
  std::vector<Delayed> delayed_;  // guarded by mutex_; a heap, soonest first
  std::thread delayer_;
};

}  // namespace postcore::server
