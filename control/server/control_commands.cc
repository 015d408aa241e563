#include "control/server/control_commands.h"

#include <cerrno>

#include "common/log.h"
#include "control/directory/snapshot_file.h"
#include "control/netcfg/rtnetlink.h"

namespace postcore::control {

nlohmann::json services_json(uint8_t services) {
  nlohmann::json out = nlohmann::json::array();
  if (services & directory::service_smtp) out.push_back("smtp");
  if (services & directory::service_pop) out.push_back("pop");
  if (services & directory::service_imap) out.push_back("imap");
  return out;
}

Result<uint8_t> parse_services(const std::vector<std::string>& names) {
  uint8_t bits = 0;
  for (const std::string& n : names) {
    if (n == "smtp")
      bits |= directory::service_smtp;
    else if (n == "pop" || n == "pop3")
      bits |= directory::service_pop;
    else if (n == "imap")
      bits |= directory::service_imap;
    else if (n == "none")
      continue;
    else
      return make_error(EINVAL, "unknown service \"" + n + "\" (smtp, pop, imap or none)");
  }
  return bits;
}

ControlCommands::ControlCommands(store::Store& store, std::string snapshot_dir,
                                 std::string data_dir, StoreVolumes* volumes)
    : store_(store),
      snapshot_dir_(std::move(snapshot_dir)),
      data_dir_(std::move(data_dir)),
      volumes_(volumes),
      jobs_(data_dir_) {
  add_domain_commands();
  add_account_commands();
  add_name_commands();
  add_misc_commands();
  add_volume_commands();
  add_import_commands();
  add_ip_commands();
}

ControlCommands::~ControlCommands() = default;

void ControlCommands::add(const std::string& name, bool mutating, Handler handler) {
  commands_[name] = Command{std::move(handler), mutating};
}

Result<void> ControlCommands::publish_if_changed() {
  auto version = store_.version();
  if (!version) return version.error();
  if (published_ && *version == published_version_) return {};
  auto data = store_.load_directory();
  if (!data) return data.error();
  // Until the first domain exists there is nothing to publish: the dataplane keeps
  // answering from the profile's local domains, so a fresh appliance takes mail at once.
  // Once a snapshot was published, every later state is published, empty or not.
  if (data->domains.empty() && !published_) {
    auto stamp = directory::snapshot_stamp(snapshot_dir_);
    if (!stamp && stamp.error().code == ENOENT) {
      published_ = true;
      published_version_ = *version;
      return {};
    }
  }
  if (auto r = directory::publish_snapshot(snapshot_dir_, *data); !r) return r;
  published_ = true;
  published_version_ = *version;
  log::info("control", "published directory version {}", *version);
  return {};
}

Result<nlohmann::json> ControlCommands::dispatch(const Peer& peer, const std::string& command,
                                                 const nlohmann::json& args) {
  auto it = commands_.find(command);
  if (it == commands_.end()) return make_error(EINVAL, "unknown command \"" + command + "\"");
  RequestArgs reader(args, command);
  store::Actor actor{peer.uid, "api"};
  Result<nlohmann::json> result = it->second.handler(actor, reader);
  if (result && it->second.mutating) {
    log::info("control", "uid {}: {}", peer.uid, command);
    // The change is committed; a failed publish must not be reported as a failed change.
    if (auto p = publish_if_changed(); !p)
      log::error("control", "cannot publish the directory snapshot: {}", p.error().message);
  }
  return result;
}

}  // namespace postcore::control
