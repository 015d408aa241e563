// ControlCommands: the admin API's command table. Each command reads its arguments
// strictly, calls the store, and answers JSON. After every command that changed the
// directory, the new snapshot is published for the dataplane before the reply goes out,
// so when postcorectl returns, the change is on its way (in effect within 1 s).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "control/server/peer_access.h"
#include "control/server/request_args.h"
#include "control/server/volume_jobs.h"
#include "control/store/store.h"
#include "queue/volume/volume_set.h"

namespace postcore::netcfg {
class Rtnetlink;
struct SystemAddress;
}  // namespace postcore::netcfg

namespace postcore::control {

class StoreVolumes;

class ControlCommands {
 public:
  // `data_dir`: where the dataplane keeps the volume set's state (volume.status) as a file,
  // read until the dataplane reports it over the admin socket.
  // `volumes`: the set the store lives on, when it does (its state joins volume status,
  // and volume scrub checks the store too).
  ControlCommands(store::Store& store, std::string snapshot_dir, std::string data_dir = {},
                  StoreVolumes* volumes = nullptr);
  ~ControlCommands();

  Result<nlohmann::json> dispatch(const Peer& peer, const std::string& command,
                                  const nlohmann::json& args);
  // Publishes the store's directory if it changed since the last publish (or never was).
  Result<void> publish_if_changed();
  // Makes the system's IP aliases match the store (at start, and `ip sync`): adds the
  // missing, moves the misplaced, removes postcore's own that the store no longer has.
  // Every action is tried; the reply lists each, with its error if it failed.
  Result<nlohmann::json> sync_ip_aliases();
  // The operator's volume jobs and the dataplane's latest report of the set.
  const VolumeJobs& volume_jobs() const { return jobs_; }

 private:
  using Handler = std::function<Result<nlohmann::json>(const store::Actor&, RequestArgs&)>;
  struct Command {
    Handler handler;
    bool mutating;
  };
  void add(const std::string& name, bool mutating, Handler handler);
  void add_domain_commands();
  void add_account_commands();
  void add_name_commands();    // aliases, forwarders, groups
  void add_misc_commands();    // status, audit, relay networks
  void add_volume_commands();  // commands_volume.cc
  void add_import_commands();
  void add_ip_commands();  // commands_ip.cc
  Result<netcfg::Rtnetlink*> netlink();
  Result<nlohmann::json> bring_up(const store::IpAlias& alias);
  Result<void> take_down(const netcfg::SystemAddress& address);
  Result<void> await_duplicate_detection(const store::IpAlias& alias);
  Result<std::string> lockout_reason(const store::IpAlias& alias, const std::string& ssh_address);
  Result<volume::MemberStatus> find_member(const std::string& name) const;

  store::Store& store_;
  std::string snapshot_dir_;
  std::string data_dir_;
  StoreVolumes* volumes_;
  VolumeJobs jobs_;
  std::map<std::string, Command> commands_;
  uint64_t published_version_ = 0;
  bool published_ = false;
  std::unique_ptr<netcfg::Rtnetlink> netlink_;  // opened at first use
};

// JSON views of directory objects (never a password hash).
nlohmann::json services_json(uint8_t services);
Result<uint8_t> parse_services(const std::vector<std::string>& names);

}  // namespace postcore::control
