// postcore: the appliance's entry point. `postcore up` starts and supervises the
// processes; `postcore spool …` inspects the spool read-only, also while it runs.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/log.h"
#include "common/profile.h"
#include "control/supervisor/supervisor.h"
#include "queue/mailstore/mailbox_cli.h"
#include "queue/spool/spool_cli.h"
#include "queue/volume/small_file.h"

using namespace postcore;

namespace {

std::string own_directory() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  buf[n] = 0;
  return std::filesystem::path(buf).parent_path().string();
}

int up(const std::string& profile_path, const std::string& data_dir_arg, int port_base,
       const std::string& log_level) {
  ProfileOverrides overrides;
  if (!data_dir_arg.empty()) overrides.data_dir = data_dir_arg;
  if (port_base >= 0) overrides.port_base = port_base;
  auto profile = load_profile(profile_path, overrides);
  if (!profile) {
    std::cerr << profile.error().message << "\n";
    return 2;
  }
  log::Level level;
  if (!log::parse_level(log_level.empty() ? profile->log_level : log_level, &level)) {
    std::cerr << "postcore: --log-level must be error, warning, info or debug\n";
    return 2;
  }
  log::set_level(level);
  if (auto made = volume::create_directories_durably(profile->data_dir); !made) {
    log::error("supervisor", "cannot create data directory {}: {}", profile->data_dir,
               made.error().message);
    return 1;
  }
  std::string data_dir = std::filesystem::canonical(profile->data_dir).string();

  const std::string child_level = log_level.empty() ? profile->log_level : log_level;
  // The control plane first: it publishes the directory snapshot the dataplane loads.
  supervisor::ChildSpec control{"control",
                                own_directory() + "/postcore-control",
                                {"--data-dir", data_dir, "--log-level", child_level}};
  supervisor::ChildSpec dataplane{"dataplane", own_directory() + "/postcore-dataplane", {}};
  // Both read the profile: the store lives on its volume set like the spool.
  if (!profile_path.empty()) {
    const std::string profile_arg = std::filesystem::absolute(profile_path).string();
    control.args.insert(control.args.end(), {"--profile", profile_arg});
    dataplane.args.insert(dataplane.args.end(), {"--profile", profile_arg});
  }
  dataplane.args.insert(dataplane.args.end(),
                        {"--data-dir", data_dir, "--port-base", std::to_string(profile->port_base),
                         "--log-level", log_level.empty() ? profile->log_level : log_level});
  log::info("supervisor", "postcore up: profile {}, data {}", profile->source, data_dir);
  return supervisor::run({data_dir, {control, dataplane}});
}

}  // namespace

int main(int argc, char** argv) {
  // The spool inspector has its own argument grammar (shared with its tests).
  if (argc >= 2 && std::string_view(argv[1]) == "spool")
    return spool::spool_command(argc - 1, argv + 1, std::cout, std::cerr);
  if (argc >= 2 && std::string_view(argv[1]) == "mailbox")
    return mailstore::mailbox_command(argc - 1, argv + 1, std::cout, std::cerr);

  CLI::App app{"postcore mail appliance"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("postcore ") + POSTCORE_VERSION);
  auto* up_cmd = app.add_subcommand("up", "start the appliance in the foreground");
  std::string profile_path, data_dir, log_level;
  int port_base = -1;
  up_cmd->add_option("--profile", profile_path, "machine profile (default: embedded dev.toml)");
  up_cmd->add_option("--data-dir", data_dir, "data directory (overrides the profile)");
  up_cmd->add_option("--port-base", port_base, "added to every listener's standard port")
      ->check(CLI::Range(0, 64000));
  up_cmd->add_option("--log-level", log_level, "error, warning, info or debug");
  app.add_subcommand("spool",
                     "inspect the spool: list | show ID | verify [--data-dir DIR] [--json]");
  app.add_subcommand("mailbox",
                     "inspect the mail store: list ACCOUNT | show ACCOUNT UID | stats "
                     "[--folder F] [--data-dir DIR] [--json]");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (up_cmd->parsed()) return up(profile_path, data_dir, port_base, log_level);
  return 2;
}
