#include "dataplane/engine/reactor.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace postcore::engine {

// Keeps a read armed on the eventfd so post() from another thread wakes the loop.
class Reactor::WakeupReader final : public Completion {
 public:
  explicit WakeupReader(Reactor& r) : reactor_(r) {}
  void complete(int, uint32_t) override { reactor_.arm_wakeup(); }

 private:
  Reactor& reactor_;
};

Reactor::Reactor(ReactorOptions options) : options_(options), timers_(Clock::now()) {}

Reactor::~Reactor() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (wakeup_fd_ >= 0) ::close(wakeup_fd_);
  delete wakeup_reader_;
}

Result<void> Reactor::init() {
  if (options_.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options_.cpu, &set);
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0)
      log::warning("engine", "core {}: cannot pin to cpu {}: {}", options_.core_index, options_.cpu,
                   std::strerror(rc));
  }
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
  if (rc == -EINVAL) {
    log::warning("engine",
                 "core {}: kernel lacks IORING_SETUP_SINGLE_ISSUER/DEFER_TASKRUN, "
                 "falling back to COOP_TASKRUN",
                 options_.core_index);
    params = {};
    params.flags = IORING_SETUP_COOP_TASKRUN;
    rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
    if (rc == -EINVAL) {
      params = {};
      rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
    }
  }
  if (rc < 0) return make_error(-rc, std::string("io_uring_queue_init: ") + std::strerror(-rc));
  ring_ready_ = true;
  wakeup_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeup_fd_ < 0) return make_error(errno, std::string("eventfd: ") + std::strerror(errno));
  wakeup_reader_ = new WakeupReader(*this);
  arm_wakeup();
  return {};
}

io_uring_sqe* Reactor::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (!s) {
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

io_uring_sqe* Reactor::sqe_for(Completion* c) {
  io_uring_sqe* s = sqe();
  io_uring_sqe_set_data(s, c);
  return s;
}

void Reactor::arm_wakeup() {
  io_uring_sqe* s = sqe_for(wakeup_reader_);
  io_uring_prep_read(s, wakeup_fd_, &wakeup_buf_, sizeof(wakeup_buf_), 0);
}

void Reactor::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeup_fd_, &one, sizeof(one));
}

void Reactor::wake_if_sleeping() {
  // Pairs with the seq_cst store in run(): either the loop sees the new message in its
  // last inbox check, or this load sees it sleeping and wakes it.
  if (sleeping_.load(std::memory_order_seq_cst)) wake();
}

void Reactor::stop() {
  stopping_.store(true, std::memory_order_release);
  wake();
}

void Reactor::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  wake();
}

size_t Reactor::drain_inboxes() {
  size_t ran = 0;
  for (auto& drain : inboxes_) ran += drain();
  return ran;
}

void Reactor::drain_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void Reactor::add_iteration_hook(std::function<void()> fn) {
  iteration_hooks_.push_back(std::move(fn));
}

void Reactor::add_quiescence_check(std::function<bool()> fn) {
  quiescence_checks_.push_back(std::move(fn));
}

void Reactor::run() {
  constexpr std::chrono::milliseconds kMaxWait{1000};
  constexpr unsigned kBatch = 256;
  io_uring_cqe* cqes[kBatch];
  struct Done {
    Completion* c;
    int res;
    uint32_t flags;
  } batch[kBatch];
  for (;;) {
    drain_posted();
    drain_inboxes();
    if (stopping() && !stop_seen_) {
      stop_seen_ = true;
      for (auto& fn : stop_hooks_) fn();
    }
    for (auto& hook : iteration_hooks_) hook();
    if (stop_seen_) {
      bool quiet = true;
      for (auto& check : quiescence_checks_) quiet = quiet && check();
      if (quiet) break;
    }

    auto now = Clock::now();
    auto wait = timers_.next_timeout(now, kMaxWait);
    sleeping_.store(true, std::memory_order_seq_cst);
    // A message that arrived since the drain above must not wait for the next wakeup.
    if (drain_inboxes() > 0) wait = std::chrono::milliseconds(0);
    __kernel_timespec ts{};
    ts.tv_sec = wait.count() / 1000;
    ts.tv_nsec = (wait.count() % 1000) * 1000000;
    io_uring_cqe* first = nullptr;
    int rc = wait.count() == 0 ? io_uring_submit(&ring_)
                               : io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
    sleeping_.store(false, std::memory_order_relaxed);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      log::error("engine", "core {}: io_uring wait failed: {}", options_.core_index,
                 std::strerror(-rc));
    }
    for (;;) {
      unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
      if (n == 0) break;
      // Copy out first: a completion may submit, and the CQ slots are reusable once seen.
      for (unsigned i = 0; i < n; ++i) {
        batch[i] = {static_cast<Completion*>(io_uring_cqe_get_data(cqes[i])), cqes[i]->res,
                    cqes[i]->flags};
      }
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i)
        if (batch[i].c) batch[i].c->complete(batch[i].res, batch[i].flags);
    }
    timers_.advance(Clock::now());
  }
  io_uring_submit(&ring_);
}

}  // namespace postcore::engine
