#include "control/supervisor/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "common/log.h"
#include "common/process_lock.h"

namespace postcore::supervisor {
namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  const ChildSpec* spec;
  pid_t pid = -1;
  Clock::time_point started;
  Clock::time_point restart_at;
  std::chrono::milliseconds backoff{200};
  bool ever_ran_long = false;  // survived its start-up at least once
  bool pending_restart = false;
};

constexpr std::chrono::seconds kStableAfter{3};
constexpr std::chrono::milliseconds kMaxBackoff{10000};

pid_t spawn(const ChildSpec& spec, const sigset_t& original_mask) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The stop signals stay blocked across exec: a child unblocks them once its handler is
  // in place, so a SIGTERM that arrives while it starts is held, never fatal.
  sigset_t child_mask = original_mask;
  sigaddset(&child_mask, SIGTERM);
  sigaddset(&child_mask, SIGINT);
  sigaddset(&child_mask, SIGHUP);
  sigprocmask(SIG_SETMASK, &child_mask, nullptr);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(spec.executable.c_str()));
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(spec.executable.c_str(), argv.data());
  log::error("supervisor", "cannot run {}: {}", spec.executable, std::strerror(errno));
  _exit(127);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

int run(const Options& options) {
  if (auto locked = hold_process_lock(options.data_dir + "/postcore.lock"); !locked) {
    log::error("supervisor", "data directory {} is in use by another postcore: {}",
               options.data_dir, locked.error().message);
    return 1;
  }

  sigset_t mask, original;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, &original);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) {
    log::error("supervisor", "signalfd: {}", std::strerror(errno));
    return 1;
  }

  std::vector<Child> children;
  for (const auto& spec : options.children) children.push_back(Child{&spec});
  for (auto& c : children) {
    c.pid = spawn(*c.spec, original);
    c.started = Clock::now();
    log::info("supervisor", "started {} (pid {})", c.spec->name, c.pid);
  }

  bool stopping = false;
  int exit_code = 0;
  for (;;) {
    bool any_running =
        std::any_of(children.begin(), children.end(), [](auto& c) { return c.pid > 0; });
    if (stopping && !any_running) break;

    int timeout_ms = -1;
    auto now = Clock::now();
    for (auto& c : children) {
      if (!c.pending_restart || stopping) continue;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(c.restart_at - now).count();
      timeout_ms = timeout_ms < 0 ? std::max<int>(0, wait)
                                  : std::min<int>(timeout_ms, std::max<int>(0, wait));
    }
    pollfd p{sfd, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0 && errno != EINTR) break;

    if (rc > 0) {
      signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
        if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !stopping) {
          stopping = true;
          log::info("supervisor", "signal {}: stopping", strsignal(static_cast<int>(si.ssi_signo)));
          for (auto& c : children)
            if (c.pid > 0) kill(c.pid, SIGTERM);
        }
      }
      // Reap every child that ended, whatever the signal was.
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (auto& c : children) {
          if (c.pid != pid) continue;
          c.pid = -1;
          if (stopping) {
            log::info("supervisor", "{} {}", c.spec->name, describe(status));
            if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) exit_code = 1;
            continue;
          }
          bool ran_long = Clock::now() - c.started >= kStableAfter;
          if (ran_long) c.ever_ran_long = true;
          if (!c.ever_ran_long && !ran_long && WIFEXITED(status)) {
            // Failing at its very first start is a configuration or environment problem.
            log::error("supervisor", "{} failed at start ({}): giving up", c.spec->name,
                       describe(status));
            stopping = true;
            exit_code = 1;
            for (auto& o : children)
              if (o.pid > 0) kill(o.pid, SIGTERM);
            continue;
          }
          if (ran_long) c.backoff = std::chrono::milliseconds(200);
          log::warning("supervisor", "{} {}: restarting in {} ms", c.spec->name, describe(status),
                       c.backoff.count());
          c.pending_restart = true;
          c.restart_at = Clock::now() + c.backoff;
          c.backoff = std::min(c.backoff * 2, kMaxBackoff);
        }
      }
    }
    now = Clock::now();
    for (auto& c : children) {
      if (c.pending_restart && !stopping && now >= c.restart_at) {
        c.pending_restart = false;
        c.pid = spawn(*c.spec, original);
        c.started = Clock::now();
        log::info("supervisor", "restarted {} (pid {})", c.spec->name, c.pid);
      }
    }
  }
  if (exit_code == 0) log::info("supervisor", "stopped");
  return exit_code;
}

}  // namespace postcore::supervisor
