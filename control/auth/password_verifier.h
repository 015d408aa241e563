// PasswordVerifier: a small pool of worker threads that checks login passwords away from
// the reactor threads, so a slow hash (yescrypt is built to be slow) never stalls the
// other connections on a core.
//
// Threads: submit() may be called from any thread and never blocks on hashing — it only
// takes a short lock to queue the request. The completion runs on a worker thread, except
// when a request is refused (queue full, shutting down): then it runs on the caller's
// thread before submit() returns. A reactor's completion should therefore only post the
// result to its own loop. Completions must not throw and must not call shutdown().
//
// Shutdown: kDrain finishes every queued request; kCancel completes the queued ones at
// once with kTemporaryFailure (on the thread calling shutdown) and only lets the requests
// already being checked finish. Either way no worker runs a completion after shutdown()
// returns; a later submit() is refused on its caller's thread. The destructor cancels.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.h"
#include "control/auth/login_verification.h"
#include "control/auth/password_hash.h"

namespace postcore::auth {

struct VerifierOptions {
  size_t threads = 2;
  size_t queue_capacity = 64;  // requests waiting for a worker; more are refused at once
  HashPolicy policy;
};

enum class ShutdownMode : uint8_t { kDrain, kCancel };

class PasswordVerifier {
 public:
  using Completion = std::function<void(VerifyResult)>;

  // Error for zero threads, zero capacity, an invalid hash cost, or a thread that cannot
  // be started.
  static Result<std::unique_ptr<PasswordVerifier>> start(const VerifierOptions& options);

  ~PasswordVerifier();
  PasswordVerifier(const PasswordVerifier&) = delete;
  PasswordVerifier& operator=(const PasswordVerifier&) = delete;

  // Queues the request and returns true, or refuses it (completion called at once with
  // kTemporaryFailure) and returns false. The completion is called exactly once.
  bool submit(VerifyRequest request, Completion completion);

  // Stops taking requests and joins the workers. Later calls do nothing.
  void shutdown(ShutdownMode mode);

 private:
  struct Job {
    VerifyRequest request;
    Completion completion;
  };

  explicit PasswordVerifier(const VerifierOptions& options);
  void run_worker();

  const VerifierOptions options_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<Job> queue_;      // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::mutex shutdown_mutex_;  // serialises shutdown(): the joins happen outside mutex_
  std::vector<std::thread> workers_;
};

}  // namespace postcore::auth
