// PasswordVerifier: real yescrypt checks on worker threads; a full queue or a stopping
// pool refuses at once instead of making the caller wait.
//
// Nothing here measures time. To pin the workers down, completions block on a gate the
// test opens: while it is closed, at most threads + queue_capacity requests can have been
// accepted, so every further submit must be refused there and then. A submit that waited
// for room instead would never return, and the test would hang until meson's timeout.
#include "control/auth/password_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/auth/password_hash.h"

namespace postcore::auth {
namespace {

// mkpasswd -m yescrypt 'correct horse'
constexpr const char* kYescrypt =
    "$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk4";

class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    opened_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_cv_;
  bool open_ = false;
};

// Collects results from any thread and lets the test wait for a number of them. Declared
// before the verifier in each test, so the verifier's workers are joined before it goes.
class Results {
 public:
  void add(VerifyResult result) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      results_.push_back(std::move(result));
      thread_ids_.push_back(std::this_thread::get_id());
    }
    changed_.notify_all();
  }
  void wait_for(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return results_.size() >= count; });
  }
  size_t count(VerifyOutcome outcome) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t n = 0;
    for (const VerifyResult& r : results_) n += r.outcome == outcome ? 1 : 0;
    return n;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return results_.size();
  }
  std::vector<VerifyResult> results() {
    std::lock_guard<std::mutex> lock(mutex_);
    return results_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<VerifyResult> results_;
  std::vector<std::thread::id> thread_ids_;
};

std::unique_ptr<PasswordVerifier> start_verifier(size_t threads, size_t capacity,
                                                 HashPolicy policy = {}) {
  Result<std::unique_ptr<PasswordVerifier>> verifier =
      PasswordVerifier::start(VerifierOptions{threads, capacity, policy});
  EXPECT_TRUE(verifier.ok()) << verifier.error().message;
  return std::move(*verifier);
}

TEST(PasswordVerifierTest, ChecksOnWorkerThreads) {
  Results results;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> on_caller_thread{0};
  auto verifier = start_verifier(2, 8);
  auto completion = [&](VerifyResult r) {
    if (std::this_thread::get_id() == caller) ++on_caller_thread;
    results.add(std::move(r));
  };
  EXPECT_TRUE(verifier->submit({kYescrypt, std::string("correct horse")}, completion));
  EXPECT_TRUE(verifier->submit({kYescrypt, std::string("wrong horse")}, completion));
  EXPECT_TRUE(verifier->submit({"{NOPE}x", std::string("pw")}, completion));
  results.wait_for(3);
  EXPECT_EQ(results.count(VerifyOutcome::kMatch), 1u);
  EXPECT_EQ(results.count(VerifyOutcome::kMismatch), 1u);
  EXPECT_EQ(results.count(VerifyOutcome::kError), 1u);
  EXPECT_EQ(on_caller_thread.load(), 0);
}

TEST(PasswordVerifierTest, MatchInOldSchemeReturnsNewHash) {
  Results results;
  auto verifier = start_verifier(1, 4);
  // openssl passwd -6 -salt saltsalt secret
  verifier->submit({"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQ"
                    "SpT0Y77vwPZN.Pq.H91p5hVO1",
                    std::string("secret")},
                   [&](VerifyResult r) { results.add(std::move(r)); });
  results.wait_for(1);
  VerifyResult r = results.results()[0];
  EXPECT_EQ(r.outcome, VerifyOutcome::kMatch);
  EXPECT_EQ(r.new_hash.substr(0, 3), "$y$");
}

TEST(PasswordVerifierTest, FullQueueRefusesAtOnceWhileRealHashesRun) {
  constexpr size_t kThreads = 2;
  constexpr size_t kCapacity = 4;
  constexpr size_t kSubmits = 40;
  Gate gate;
  Results results;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<size_t> refused_on_caller{0};
  auto verifier = start_verifier(kThreads, kCapacity);

  size_t accepted = 0;
  for (size_t i = 0; i < kSubmits; ++i) {
    bool queued = verifier->submit({kYescrypt, std::string("correct horse")}, [&](VerifyResult r) {
      if (r.outcome == VerifyOutcome::kTemporaryFailure) {
        if (std::this_thread::get_id() == caller) ++refused_on_caller;
      } else {
        gate.wait();  // holds the worker after its real yescrypt check
      }
      results.add(std::move(r));
    });
    accepted += queued ? 1 : 0;
  }
  // Still on the caller's thread with every worker held: all the refusals have completed.
  EXPECT_LE(accepted, kThreads + kCapacity);
  EXPECT_GE(accepted, kCapacity);
  EXPECT_EQ(refused_on_caller.load(), kSubmits - accepted);

  gate.open();
  results.wait_for(kSubmits);
  EXPECT_EQ(results.count(VerifyOutcome::kMatch), accepted);
  EXPECT_EQ(results.count(VerifyOutcome::kTemporaryFailure), kSubmits - accepted);
  for (const VerifyResult& r : results.results()) {
    if (r.outcome == VerifyOutcome::kTemporaryFailure) {
      EXPECT_EQ(r.message, "password verifier queue is full");
    }
  }
}

TEST(PasswordVerifierTest, ManySubmittersManyRealHashes) {
  Results results;
  constexpr int kSubmitters = 4;
  constexpr int kEach = 12;
  std::atomic<int> accepted{0};
  auto verifier = start_verifier(2, 16);
  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string candidate = (i + t) % 2 == 0 ? "correct horse" : "wrong";
        if (verifier->submit({kYescrypt, std::move(candidate)},
                             [&](VerifyResult r) { results.add(std::move(r)); })) {
          ++accepted;
        }
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  results.wait_for(kSubmitters * kEach);
  EXPECT_EQ(results.size(), static_cast<size_t>(kSubmitters * kEach));
  EXPECT_EQ(results.count(VerifyOutcome::kError), 0u);
  EXPECT_EQ(results.count(VerifyOutcome::kMatch) + results.count(VerifyOutcome::kMismatch),
            static_cast<size_t>(accepted.load()));
}

TEST(PasswordVerifierTest, CancelCompletesQueuedRequestsWithTemporaryFailure) {
  Gate gate;
  Results results;
  auto verifier = start_verifier(1, 8);
  auto held = [&](VerifyResult r) {
    if (r.outcome != VerifyOutcome::kTemporaryFailure) gate.wait();
    results.add(std::move(r));
  };
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(verifier->submit({kYescrypt, std::string("correct horse")}, held));
  }
  // The single worker holds at most one request; shutdown cancels the queued rest on the
  // stopping thread, then waits for the held one, which the gate releases.
  std::thread stopper([&] { verifier->shutdown(ShutdownMode::kCancel); });
  results.wait_for(5);
  gate.open();
  stopper.join();
  EXPECT_EQ(results.size(), 6u);
  EXPECT_LE(results.count(VerifyOutcome::kMatch), 1u);
  EXPECT_GE(results.count(VerifyOutcome::kTemporaryFailure), 5u);

  Results late;
  EXPECT_FALSE(verifier->submit({kYescrypt, std::string("correct horse")},
                                [&](VerifyResult r) { late.add(std::move(r)); }));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late.results()[0].message, "password verifier is shutting down");
}

TEST(PasswordVerifierTest, DrainFinishesEveryQueuedRequest) {
  Gate gate;
  Results results;
  auto verifier = start_verifier(1, 8);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(verifier->submit({kYescrypt, std::string("correct horse")}, [&](VerifyResult r) {
      gate.wait();
      results.add(std::move(r));
    }));
  }
  gate.open();
  verifier->shutdown(ShutdownMode::kDrain);
  // No completion runs after shutdown returns, so every one has run by now.
  EXPECT_EQ(results.size(), 5u);
  EXPECT_EQ(results.count(VerifyOutcome::kMatch), 5u);
  verifier->shutdown(ShutdownMode::kCancel);  // a second call does nothing
}

TEST(PasswordVerifierTest, RejectsBadOptions) {
  EXPECT_FALSE(PasswordVerifier::start(VerifierOptions{.threads = 0}).ok());
  EXPECT_FALSE(PasswordVerifier::start(VerifierOptions{.queue_capacity = 0}).ok());
  EXPECT_FALSE(
      PasswordVerifier::start(VerifierOptions{.policy = {.hash = {.yescrypt_cost = 99}}}).ok());
}

TEST(PasswordVerifierTest, DestructorCancels) {
  Results results;
  {
    auto verifier = start_verifier(1, 4);
    for (int i = 0; i < 3; ++i) {
      verifier->submit({kYescrypt, std::string("correct horse")},
                       [&](VerifyResult r) { results.add(std::move(r)); });
    }
  }
  // Every completion ran exactly once, either checked or cancelled.
  EXPECT_EQ(results.size(), 3u);
}

}  // namespace
}  // namespace postcore::auth
