#include "control/auth/password_verifier.h"

#include <errno.h>
#include <pthread.h>

#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace postcore::auth {
namespace {

VerifyResult temporary_failure(std::string why) {
  VerifyResult result;
  result.outcome = VerifyOutcome::kTemporaryFailure;
  result.message = std::move(why);
  return result;
}

}  // namespace

Result<std::unique_ptr<PasswordVerifier>> PasswordVerifier::start(const VerifierOptions& options) {
  if (options.threads == 0) return make_error(EINVAL, "password verifier needs a thread");
  if (options.queue_capacity == 0) {
    return make_error(EINVAL, "password verifier queue capacity must be at least 1");
  }
  if (Result<void> valid = validate_hash_options(options.policy.hash); !valid) {
    return valid.error();
  }

  std::unique_ptr<PasswordVerifier> verifier(new PasswordVerifier(options));
  try {
    for (size_t i = 0; i < options.threads; ++i) {
      verifier->workers_.emplace_back([v = verifier.get()] { v->run_worker(); });
      // Named so a stuck hash is easy to spot in top -H and gdb.
      std::string name = "pc-auth-" + std::to_string(i);
      pthread_setname_np(verifier->workers_.back().native_handle(), name.c_str());
    }
  } catch (const std::system_error& e) {
    verifier->shutdown(ShutdownMode::kCancel);
    return make_error(e.code().value(),
                      std::string("cannot start password verifier thread: ") + e.what());
  }
  return verifier;
}

PasswordVerifier::PasswordVerifier(const VerifierOptions& options) : options_(options) {}

PasswordVerifier::~PasswordVerifier() {
  shutdown(ShutdownMode::kCancel);
}

bool PasswordVerifier::submit(VerifyRequest request, Completion completion) {
  const char* refusal = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      refusal = "password verifier is shutting down";
    } else if (queue_.size() >= options_.queue_capacity) {
      refusal = "password verifier queue is full";
    } else {
      queue_.push_back(Job{std::move(request), std::move(completion)});
    }
  }
  if (refusal == nullptr) {
    work_ready_.notify_one();
    return true;
  }
  request.candidate.wipe();
  completion(temporary_failure(refusal));
  return false;
}

void PasswordVerifier::shutdown(ShutdownMode mode) {
  std::lock_guard<std::mutex> serial(shutdown_mutex_);
  std::deque<Job> cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (mode == ShutdownMode::kCancel) cancelled.swap(queue_);
  }
  work_ready_.notify_all();
  for (Job& job : cancelled) {
    job.request.candidate.wipe();
    job.completion(temporary_failure("password verifier is shutting down"));
  }
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void PasswordVerifier::run_worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to drain
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    VerifyResult result;
    try {
      result = verify_for_login(job.request.stored, job.request.candidate.view(), options_.policy);
    } catch (const std::exception& e) {
      // Only allocation can throw here; it must not take the worker thread down with it.
      result.outcome = VerifyOutcome::kError;
      result.message = std::string("password check failed: ") + e.what();
    }
    job.request.candidate.wipe();
    job.completion(std::move(result));
  }
}

}  // namespace postcore::auth
