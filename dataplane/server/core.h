// Core: everything one reactor thread owns, built and torn down in one place: the
// reactor, its FileIo, its spool shard, its transport and its services.
#pragma once

#include <future>
#include <memory>
#include <thread>

#include "common/profile.h"
#include "common/result.h"
#include "dataplane/server/connection_limiter.h"

namespace postcore::server {

class Core {
 public:
  Core(unsigned index, int cpu, const Profile& profile, ConnectionLimiter& limiter);
  ~Core();

  // Starts the thread; the future reports whether start-up (spool recovery, binding the
  // listeners) succeeded.
  std::future<Result<void>> start();
  void stop();  // from any thread: graceful
  void join();

 private:
  void run(std::promise<Result<void>> started);

  unsigned index_;
  int cpu_;
  const Profile& profile_;
  ConnectionLimiter& limiter_;
  std::thread thread_;
  struct State;
  std::atomic<State*> state_{nullptr};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace postcore::server
