// Reactor: one per core, pinned, owning one io_uring. Everything on a core runs from
// its loop: CQE completions, timers, messages from other threads, and end-of-iteration
// hooks (batched sends, the spool's group commit). Nothing here blocks.
#pragma once

#include <liburing.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/engine/completion.h"
#include "dataplane/engine/timer_wheel.h"

namespace postcore::engine {

struct ReactorOptions {
  unsigned core_index = 0;  // this reactor's index among the reactors
  int cpu = -1;             // CPU to pin to; -1 leaves the thread unpinned
  unsigned queue_depth = 4096;
};

class Reactor {
 public:
  explicit Reactor(ReactorOptions options);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Must run on the thread that will call run(): SINGLE_ISSUER binds the ring to it.
  Result<void> init();

  // An SQE to fill; submits pending ones to make room when the SQ is full.
  io_uring_sqe* sqe();
  // Convenience: an SQE whose user_data already points at `c`.
  io_uring_sqe* sqe_for(Completion* c);

  void run();   // until stop() and every registered drain condition is met
  void stop();  // from any thread

  // Runs `fn` on this reactor's thread at its next iteration. Any thread.
  void post(std::function<void()> fn);
  // Runs at the end of every loop iteration, after completions and timers, in order of
  // registration: the place for batched sends and the spool's group commit.
  void add_iteration_hook(std::function<void()> fn);
  // run() returns after stop() once every quiescence check returns true.
  void add_quiescence_check(std::function<bool()> fn);

  TimerWheel& timers() { return timers_; }
  io_uring* ring() { return &ring_; }
  unsigned core_index() const { return options_.core_index; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Called once when stop() is first noticed on the reactor thread.
  void on_stop(std::function<void()> fn) { stop_hooks_.push_back(std::move(fn)); }

  // An inbox is drained at every iteration; it returns how many messages it ran. Used
  // by CoreMesh for the rings from other cores.
  void add_inbox(std::function<size_t()> drain) { inboxes_.push_back(std::move(drain)); }
  // From another thread, after making work visible to an inbox: wakes the loop if it is
  // (about to be) waiting in the kernel.
  void wake_if_sleeping();

  // Allocates a buffer-group id for a provided buffer ring registered on this ring.
  uint16_t next_buffer_group() { return next_bgid_++; }

 private:
  class WakeupReader;
  void arm_wakeup();
  void drain_posted();
  size_t drain_inboxes();
  void wake();

  ReactorOptions options_;
  io_uring ring_{};
  bool ring_ready_ = false;
  TimerWheel timers_;
  std::atomic<bool> stopping_{false};
  bool stop_seen_ = false;
  int wakeup_fd_ = -1;
  uint64_t wakeup_buf_ = 0;
  WakeupReader* wakeup_reader_ = nullptr;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> iteration_hooks_;
  std::vector<std::function<bool()>> quiescence_checks_;
  std::vector<std::function<void()>> stop_hooks_;
  std::vector<std::function<size_t()>> inboxes_;
  std::atomic<bool> sleeping_{false};
  uint16_t next_bgid_ = 1;
};

}  // namespace postcore::engine
