// Core: everything one reactor thread owns, built and torn down in one place: the
// reactor, its FileIo, its spool shard, its transport and its services.
#pragma once

#include <future>
#include <memory>
#include <thread>

#include "common/profile.h"
#include "common/result.h"
#include "control/directory/directory.h"
#include "dataplane/server/connection_limiter.h"
#include "dataplane/server/login_checker.h"
#include "dataplane/server/mail_cores.h"
#include "queue/volume/volume_set.h"

namespace postcore::server {

class Core {
 public:
  // `volumes` is the set the spool lives on, shared by every core; `logins` checks AUTH
  // passwords for every core and must outlive the core. Core `index` of `count` owns spool
  // shard `index`, and every shard directory k >= count with k % count == index left by
  // a machine that ran more cores: their messages are recovered and kept, not forgotten.
  // `cores` knows which core owns each mailbox; shared by every core, it must outlive them.
  Core(unsigned index, unsigned count, int cpu, const Profile& profile, ConnectionLimiter& limiter,
       std::shared_ptr<volume::VolumeSet> volumes, LoginChecker* logins,
       std::shared_ptr<const directory::Directory> directory, MailCores& cores,
       ConnectionLimiter& pop3_limiter);
  ~Core();

  // Starts the thread; the future reports whether start-up (spool recovery, binding the
  // listeners) succeeded.
  std::future<Result<void>> start();
  // From any thread, once every core has started: delivery of what the spool holds begins
  // (it needs the cores that own the mailboxes running).
  void start_delivery();
  void stop();  // from any thread: graceful
  // From any thread: the core swaps the new directory in at its next iteration.
  void set_directory(std::shared_ptr<const directory::Directory> directory);
  void join();

 private:
  void run(std::promise<Result<void>> started);

  unsigned index_;
  unsigned count_;
  int cpu_;
  const Profile& profile_;
  ConnectionLimiter& limiter_;
  std::shared_ptr<volume::VolumeSet> volumes_;
  LoginChecker* logins_;
  std::shared_ptr<const directory::Directory> initial_directory_;
  MailCores& cores_;
  ConnectionLimiter& pop3_limiter_;
  std::thread thread_;
  struct State;
  std::atomic<State*> state_{nullptr};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace postcore::server
