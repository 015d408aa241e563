// Keeper: one thread that runs what it is handed, one task at a time, in the order handed.
// A VolumeSet's member state has this one owner: every change to it (a member failing,
// a resilver beginning or ending, a member added or removed) is a task here, so changes
// never interleave and their blocking I/O (the fsync of each member's volume.meta) runs on
// this thread, never on a reactor that found the failure.
//
// Threads: post(), call() and settle() from any thread; the tasks on the keeper's own.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace postcore::volume {

class Keeper {
 public:
  Keeper();
  ~Keeper();  // runs what is queued, then stops
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;

  // Queues `task` and returns.
  void post(std::function<void()> task);
  // Runs `task` after everything queued before it and waits for it to end. On the keeper's
  // own thread (a task calling back into its owner) it runs at once.
  void call(const std::function<void()>& task);
  // Waits until everything queued before has run.
  void settle() {
    call([] {});
  }
  bool on_keeper_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::thread thread_;
};

}  // namespace postcore::volume
