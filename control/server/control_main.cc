// postcore-control: the control plane process, started and supervised by `postcore up`.
// Owns the configuration store, serves the admin API, and publishes the directory
// snapshot the dataplane answers RCPT from.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.h"
#include "common/process_lock.h"
#include "common/profile.h"
#include "control/server/admin_server.h"
#include "control/server/control_commands.h"
#include "control/server/store_volumes.h"
#include "control/store/store.h"
#include "queue/volume/small_file.h"

using namespace postcore;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop.store(true);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"postcore control plane (started by `postcore up`)"};
  std::string data_dir = "./var", log_level = "info", group = "postcore", profile_path;
  app.add_option("--profile", profile_path, "machine profile (default: embedded dev.toml)");
  app.add_option("--data-dir", data_dir, "data directory");
  app.add_option("--log-level", log_level, "error, warning, info or debug");
  app.add_option("--admin-group", group, "group whose members may use the admin API");
  CLI11_PARSE(app, argc, argv);

  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 1;
  log::Level level;
  if (log::parse_level(log_level, &level)) log::set_level(level);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // The supervisor starts us with these blocked; one already pending arrives now.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_UNBLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The store's VFS names files by absolute path: so must the volume set.
  auto absolute = std::filesystem::absolute(data_dir).lexically_normal();
  if (!absolute.has_filename() && absolute.has_parent_path()) absolute = absolute.parent_path();
  data_dir = absolute.string();
  const std::string control_dir = data_dir + "/control";
  if (auto made = volume::create_directories_durably(control_dir); !made) {
    log::error("control", "{}", made.error().message);
    return 1;
  }
  // One control plane per data directory: the store's VFS takes no locks of its own.
  if (auto locked = hold_process_lock(control_dir + "/control.lock"); !locked) {
    log::error("control", "another control plane is running on this data directory: {}",
               locked.error().message);
    return 1;
  }
  // The store lives on the profile's volume set, like the spool.
  ProfileOverrides overrides;
  overrides.data_dir = data_dir;
  auto profile = load_profile(profile_path, overrides);
  if (!profile) {
    log::error("control", "{}", profile.error().message);
    return 2;
  }
  auto volumes = control::StoreVolumes::open(*profile, data_dir);
  if (!volumes) {
    log::error("control", "{}", volumes.error().message);
    return 1;
  }
  store::StoreOptions store_options;
  store_options.files = &(*volumes)->files();
  auto store = store::Store::open((*volumes)->store_path(), store_options);
  if (!store) {
    log::error("control", "{}", store.error().message);
    return 1;
  }
  // The store is open and recovered: from now on the set's status file is written by a
  // thread of its own, never under the set's lock on this one.
  (*volumes)->set().write_status_in_background();
  control::ControlCommands commands(**store, control_dir, data_dir, volumes->get());
  // The dataplane may have started before any change was made: give it a snapshot now.
  if (auto r = commands.publish_if_changed(); !r) {
    log::error("control", "cannot publish the directory snapshot: {}", r.error().message);
    return 1;
  }
  // IP aliases survive reboots and restarts: the store says which there should be.
  if (auto synced = commands.sync_ip_aliases(); !synced)
    log::warning("control", "ip aliases not applied: {}", synced.error().message);
  control::AdminServerOptions options;
  options.socket_path = data_dir + "/control.sock";
  options.admin_group = control::group_id(group);
  if (!options.admin_group)
    log::info("control", "no group '{}' on this system: the admin API is for root only", group);
  control::AdminServer server(
      options, [&](const control::Peer& peer, const std::string& cmd, const nlohmann::json& args) {
        return commands.dispatch(peer, cmd, args);
      });
  if (auto r = server.listen(); !r) {
    log::error("control", "admin API: {}", r.error().message);
    return 1;
  }
  log::info("control", "admin API on {}", options.socket_path);
  server.serve(g_stop, [&] { (*volumes)->tick(**store, commands.volume_jobs()); });
  log::info("control", "stopped");
  return 0;
}
