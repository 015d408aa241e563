#include "queue/volume/member_calls.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace postcore::volume {

struct MemberCalls::Batch {
  std::mutex mu;
  std::condition_variable answered;
  size_t left = 0;
};

struct MemberCalls::Pending {
  Call call;
  Discard discard;
  std::shared_ptr<Batch> batch;
  // Under batch->mu:
  std::optional<Result<int>> result;
  bool abandoned = false;
};

struct MemberCalls::Worker {
  std::mutex mu;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Pending>> queue;
  bool stop = false;
  bool busy = false;  // inside a call: possibly stuck in the kernel for good
  std::thread thread;

  static void loop(std::shared_ptr<Worker> self) {
    for (;;) {
      std::shared_ptr<Pending> p;
      {
        std::unique_lock lock(self->mu);
        self->wake.wait(lock, [&] { return self->stop || !self->queue.empty(); });
        if (self->queue.empty()) return;  // stopping
        p = std::move(self->queue.front());
        self->queue.pop_front();
        self->busy = true;
      }
      bool abandoned;
      {
        std::lock_guard lock(p->batch->mu);
        abandoned = p->abandoned;
      }
      // A call given up before it started never runs: its descriptor may be closed and
      // its number reused by now.
      if (!abandoned) {
        Result<int> r = p->call();
        std::lock_guard lock(p->batch->mu);
        if (p->abandoned) {
          if (r && p->discard) p->discard(*r);
        } else {
          p->result = std::move(r);
          if (--p->batch->left == 0) p->batch->answered.notify_all();
        }
      }
      std::lock_guard lock(self->mu);
      self->busy = false;
    }
  }
};

MemberCalls::~MemberCalls() {
  for (auto& w : workers_) {
    if (!w) continue;
    bool busy;
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
      busy = w->busy;
    }
    w->wake.notify_all();
    // A thread stuck in a call to a dead disk cannot be joined; it holds its own state
    // and ends when the kernel lets it go.
    if (busy)
      w->thread.detach();
    else
      w->thread.join();
  }
}

std::vector<std::optional<Result<int>>> MemberCalls::run(std::vector<Call> calls,
                                                         std::chrono::milliseconds timeout,
                                                         const Discard& discard) {
  auto batch = std::make_shared<Batch>();
  std::vector<std::shared_ptr<Pending>> pending(calls.size());
  if (workers_.size() < calls.size()) workers_.resize(calls.size());
  for (size_t m = 0; m < calls.size(); m++) {
    if (!calls[m]) continue;
    pending[m] = std::make_shared<Pending>(Pending{std::move(calls[m]), discard, batch, {}, false});
    batch->left++;
  }
  for (size_t m = 0; m < calls.size(); m++) {
    if (!pending[m]) continue;
    if (!workers_[m]) {
      workers_[m] = std::make_shared<Worker>();
      workers_[m]->thread = std::thread(Worker::loop, workers_[m]);
    }
    {
      std::lock_guard lock(workers_[m]->mu);
      workers_[m]->queue.push_back(pending[m]);
    }
    workers_[m]->wake.notify_one();
  }
  std::vector<std::optional<Result<int>>> out(calls.size());
  std::unique_lock lock(batch->mu);
  batch->answered.wait_for(lock, timeout, [&] { return batch->left == 0; });
  for (size_t m = 0; m < pending.size(); m++) {
    if (!pending[m]) continue;
    if (pending[m]->result) {
      out[m] = std::move(pending[m]->result);
      continue;
    }
    pending[m]->abandoned = true;
    retire(m);
  }
  return out;
}

// The member's thread may be stuck in the kernel for good (a dead disk): the member's
// next call, made once the slot holds a replaced disk, gets a thread of its own instead of
// waiting behind it. The old thread skips what it was given and ends when it can.
void MemberCalls::retire(size_t m) {
  std::shared_ptr<Worker> old = std::move(workers_[m]);
  {
    std::lock_guard lock(old->mu);
    old->stop = true;
  }
  old->wake.notify_all();
  old->thread.detach();
}

}  // namespace postcore::volume
