#include "dataplane/server/login_checker.h"

#include <pthread.h>
#include <sys/random.h>

#include <algorithm>

#include "common/log.h"
#include "control/api/admin_client.h"
#include "control/auth/password_hash.h"

namespace postcore::server {

bool plaintext_allowed(PlaintextAuth setting, std::string_view peer_address) {
  const bool loopback = peer_address.starts_with("127.") || peer_address == "::1" ||
                        peer_address.starts_with("::ffff:127.");
  return setting == PlaintextAuth::always || (setting == PlaintextAuth::loopback && loopback);
}
namespace {

constexpr size_t kMaxQueuedReports = 1024;
constexpr std::chrono::seconds kReportTimeout{5};

// The decoy's password is random and thrown away: nothing can match it.
Result<std::string> make_decoy_hash() {
  char bytes[24];
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
    return make_error(errno, "no randomness for the decoy password");
  std::string password;
  for (unsigned char b : bytes) password += static_cast<char>('a' + b % 26);
  return auth::hash_password(password);
}

}  // namespace

Result<std::unique_ptr<LoginChecker>> LoginChecker::start(const AuthSettings& settings,
                                                          std::string control_socket) {
  auth::VerifierOptions options;
  options.threads = settings.verify_threads;
  options.queue_capacity = settings.verify_queue;
  options.policy.rehash_on_login = settings.rehash_on_login;
  auto verifier = auth::PasswordVerifier::start(options);
  if (!verifier) return verifier.error();
  auto decoy = make_decoy_hash();
  if (!decoy) return decoy.error();
  return std::unique_ptr<LoginChecker>(new LoginChecker(
      std::move(*verifier), std::move(control_socket), std::move(*decoy), settings));
}

LoginChecker::LoginChecker(std::unique_ptr<auth::PasswordVerifier> verifier,
                           std::string control_socket, std::string decoy_hash,
                           const AuthSettings& settings)
    : verifier_(std::move(verifier)),
      control_socket_(std::move(control_socket)),
      decoy_hash_(std::move(decoy_hash)),
      throttle_(settings) {
  if (!control_socket_.empty()) reporter_ = std::thread([this] { run_reporter(); });
  delayer_ = std::thread([this] { run_delays(); });
}

LoginChecker::~LoginChecker() {
  shutdown();
}

void LoginChecker::shutdown() {
  verifier_->shutdown(auth::ShutdownMode::kCancel);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  reports_ready_.notify_all();
  delays_changed_.notify_all();
  if (reporter_.joinable()) reporter_.join();
  if (delayer_.joinable()) delayer_.join();
}

namespace {
// For a heap with the soonest answer on top.
bool later_due(const auto& a, const auto& b) {
  return a.due > b.due;
}
}  // namespace

void LoginChecker::answer_at(std::chrono::steady_clock::time_point due, Done done,
                             LoginAnswer answer) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && due > std::chrono::steady_clock::now()) {
      delayed_.push_back({due, std::move(done), std::move(answer)});
      std::push_heap(delayed_.begin(), delayed_.end(), later_due<Delayed, Delayed>);
      delays_changed_.notify_one();
      return;
    }
  }
  done(std::move(answer));
}

void LoginChecker::run_delays() {
  pthread_setname_np(pthread_self(), "login-delay");
  std::unique_lock lock(mutex_);
  for (;;) {
    if (delayed_.empty()) {
      if (stopping_) return;
      delays_changed_.wait(lock);
      continue;
    }
    if (!stopping_ && std::chrono::steady_clock::now() < delayed_.front().due) {
      delays_changed_.wait_until(lock, delayed_.front().due);
      continue;
    }
    std::pop_heap(delayed_.begin(), delayed_.end(), later_due<Delayed, Delayed>);
    Delayed next = std::move(delayed_.back());
    delayed_.pop_back();
    lock.unlock();
    next.done(std::move(next.answer));
    lock.lock();
  }
}

void LoginChecker::check(std::shared_ptr<const directory::Directory> directory,
                         std::string_view authzid, std::string_view login,
                         std::string_view password, uint8_t service,
                         std::string_view client_address, Done done) {
  const auto now = std::chrono::steady_clock::now();
  const LoginThrottle::Verdict verdict = throttle_.before(client_address, login, now);
  if (verdict.refuse)
    return answer_at(now + verdict.delay, std::move(done), {LoginOutcome::refused, {}});
  std::optional<directory::LoginAccount> account;
  if (directory) account = directory->find_login(login);
  // Acting for another account is not offered: an authzid must name the login's account.
  bool allowed = account && (account->services & service) != 0;
  if (allowed && !authzid.empty()) {
    std::optional<directory::LoginAccount> as = directory->find_login(authzid);
    allowed = as && as->address == account->address;
  }
  auth::VerifyRequest request;
  request.stored = account ? account->password_hash : decoy_hash_;
  request.candidate = auth::SecretString(std::string(password));
  std::string address = account ? account->address : std::string();
  // The answer is counted, then given once the delay the earlier failures earned is over.
  auto finish = [this, client = std::string(client_address), login = std::string(login),
                 due = now + verdict.delay, done = std::move(done)](LoginAnswer answer) mutable {
    if (answer.outcome == LoginOutcome::success)
      throttle_.succeeded(client, login);
    else if (answer.outcome == LoginOutcome::invalid &&
             throttle_.failed(client, login, std::chrono::steady_clock::now()))
      log::warning("auth", "client {}: too many failed logins; its logins are refused for now",
                   LoginThrottle::address_key(client));
    answer_at(due, std::move(done), std::move(answer));
  };
  verifier_->submit(std::move(request),
                    [this, allowed, address = std::move(address),
                     stored = std::string(account ? account->password_hash : std::string()),
                     done = std::move(finish)](auth::VerifyResult r) mutable {
                      switch (r.outcome) {
                        case auth::VerifyOutcome::kMatch:
                          if (!allowed) return done({LoginOutcome::invalid, {}});
                          if (!r.new_hash.empty()) report({address, stored, std::move(r.new_hash)});
                          if (!r.message.empty())
                            log::warning("auth", "{}: {}", address, r.message);
                          return done({LoginOutcome::success, address});
                        case auth::VerifyOutcome::kMismatch:
                          return done({LoginOutcome::invalid, {}});
                        case auth::VerifyOutcome::kError:
                          // The stored password is unusable (an empty or locked one, say): no
                          // login.
                          if (!address.empty())
                            log::info("auth", "{}: no login: {}", address, r.message);
                          return done({LoginOutcome::invalid, {}});
                        case auth::VerifyOutcome::kTemporaryFailure:
                          return done({LoginOutcome::temporary_failure, {}});
                      }
                    });
}

void LoginChecker::report(Rehash rehash) {
  if (control_socket_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (reports_.size() >= kMaxQueuedReports) {
      log::warning("auth", "{}: rehash not reported (too many waiting); a later login retries",
                   rehash.address);
      return;
    }
    reports_.push_back(std::move(rehash));
  }
  reports_ready_.notify_one();
}

void LoginChecker::run_reporter() {
  for (;;) {
    Rehash next;
    {
      std::unique_lock lock(mutex_);
      reports_ready_.wait(lock, [this] { return stopping_ || !reports_.empty(); });
      if (stopping_) return;
      next = std::move(reports_.front());
      reports_.pop_front();
    }
    auto client = api::AdminClient::connect(control_socket_, kReportTimeout);
    Result<nlohmann::json> replied =
        client ? client->call("account.rehash", {{"address", next.address},
                                                 {"old_hash", next.old_hash},
                                                 {"new_hash", next.new_hash}})
               : Result<nlohmann::json>(client.error());
    if (!replied) {
      log::warning("auth", "{}: rehash not stored ({}); a later login retries", next.address,
                   replied.error().message);
    } else if (replied->value("replaced", false)) {
      log::info("auth", "{}: password stored again as yescrypt", next.address);
    }
  }
}

}  // namespace postcore::server
