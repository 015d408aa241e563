// postcore-dataplane: the composition root of the dataplane process. Started and
// supervised by `postcore up`; runs one Core per configured reactor until SIGTERM.
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "common/capabilities.h"
#include "common/log.h"
#include "common/process_lock.h"
#include "common/profile.h"
#include "dataplane/server/core.h"
#include "dataplane/server/directory_watcher.h"
#include "dataplane/server/volume_maintenance.h"
#include "queue/volume/small_file.h"
#include "queue/volume/volume_set.h"

using namespace postcore;

namespace {

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"postcore dataplane (started by `postcore up`)"};
  std::string profile_path, data_dir, log_level;
  int port_base = -1;
  app.add_option("--profile", profile_path, "machine profile (default: embedded dev.toml)");
  app.add_option("--data-dir", data_dir, "data directory");
  app.add_option("--port-base", port_base, "added to every listener's port")
      ->check(CLI::Range(0, 64000));
  app.add_option("--log-level", log_level, "error, warning, info or debug");
  CLI11_PARSE(app, argc, argv);

  // Stop with the supervisor even if it is killed outright.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 1;
  // Only the control plane changes the network configuration.
  if (auto r = drop_capabilities({CAP_NET_ADMIN, CAP_NET_RAW}); !r) {
    log::error("dataplane", "{}", r.error().message);
    return 1;
  }

  ProfileOverrides overrides;
  if (!data_dir.empty()) overrides.data_dir = data_dir;
  if (port_base >= 0) overrides.port_base = port_base;
  auto profile = load_profile(profile_path, overrides);
  if (!profile) {
    log::error("dataplane", "{}", profile.error().message);
    return 2;
  }
  log::Level level;
  if (log::parse_level(log_level.empty() ? profile->log_level : log_level, &level))
    log::set_level(level);

  if (auto made = volume::create_directories_durably(profile->data_dir); !made) {
    log::error("dataplane", "{}", made.error().message);
    return 1;
  }
  // Two dataplanes appending to one spool would corrupt it: the lock makes that impossible
  // even for a process started by hand next to a running appliance.
  if (auto locked = hold_process_lock(profile->data_dir + "/dataplane.lock"); !locked) {
    log::error("dataplane", "another dataplane is running on this data directory: {}",
               locked.error().message);
    return 1;
  }

  // The volume set the spool lives on: which members can be trusted is decided here, once,
  // before any core writes.
  std::vector<std::string> members;
  for (const std::string& m : profile->volumes.members)
    members.push_back(profile->volume_member_path(m));
  // Members added or removed with postcorectl since the profile was written.
  members = volume::apply_member_edits(std::move(members), profile->data_dir + "/volume.members");
  auto volumes =
      volume::VolumeSet::open(profile->data_dir, std::move(members),
                              profile->data_dir + "/volume.status", profile->volumes.io_timeout);
  if (!volumes) {
    log::error("dataplane", "{}", volumes.error().message);
    return 1;
  }

  // Signals go to this thread only, through sigwait; reactor threads never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<int> cpus = usable_cpus();
  unsigned n = profile->cores ? profile->cores : static_cast<unsigned>(cpus.size());
  server::ConnectionLimiter limiter(profile->smtp.max_connections,
                                    profile->smtp.max_connections_per_client);
  // Password checks for every core, on threads of their own (started after the signals
  // were blocked, so they never take SIGTERM); outlives the cores.
  auto logins = server::LoginChecker::start(profile->auth, profile->data_dir + "/control.sock");
  if (!logins) {
    log::error("dataplane", "login checks: {}", logins.error().message);
    return 1;
  }
  // The directory snapshot in force when the cores start; later ones are polled for below.
  std::shared_ptr<const directory::Directory> current;
  server::MailCores mail_cores(n);  // outlives the cores
  server::ConnectionLimiter pop3_limiter(profile->pop3.max_connections,
                                         profile->pop3.max_connections_per_client);
  std::vector<std::unique_ptr<server::Core>> cores;
  server::DirectoryWatcher watcher(profile->data_dir + "/control",
                                   [&](std::shared_ptr<const directory::Directory> d) {
                                     current = d;
                                     for (auto& c : cores) c->set_directory(d);
                                   });
  watcher.poll();
  std::vector<std::future<Result<void>>> started;
  for (unsigned i = 0; i < n; ++i) {
    int cpu = i < cpus.size() ? cpus[i] : -1;
    cores.push_back(std::make_unique<server::Core>(
        i, n, cpu, *profile, limiter, *volumes, logins->get(), current, mail_cores, pop3_limiter));
    started.push_back(cores.back()->start());
  }
  bool ok = true;
  for (auto& f : started) {
    Result<void> r = f.get();
    if (!r) {
      log::error("dataplane", "{}", r.error().message);
      ok = false;
    }
  }
  if (ok) {
    for (auto& c : cores) c->start_delivery();
    // Recovery is over and its findings are in the status file: from now on a thread of its
    // own keeps the file, and a reactor that finds a failing disk never waits on it.
    (*volumes)->write_status_in_background();
    for (const auto& l : profile->listeners)
      log::info("dataplane", "{} listening on {} port {} ({} reactor{})", service_name(l.service),
                l.address, l.bound_port, n, n == 1 ? "" : "s");
    // A directory change is in effect within the 1 s promised to operators: poll at 200 ms.
    const timespec tick{0, 200 * 1000 * 1000};
    server::VolumeMaintenance maintenance(*volumes, profile->data_dir,
                                          profile->volumes.maintenance_bytes_per_second,
                                          profile->volumes.io_timeout);
    int sig = -1;
    for (;;) {
      sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) break;
      watcher.poll();
      (*volumes)->check();
      maintenance.poll();
    }
    log::info("dataplane", "signal {}: stopping", sig);
  }
  for (auto& c : cores) c->stop();
  for (auto& c : cores) c->join();
  if (ok) log::info("dataplane", "stopped");
  return ok ? 0 : 1;
}
