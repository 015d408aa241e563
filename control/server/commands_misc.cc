// Commands about the control plane itself: status, the audit trail, relay networks.
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "control/server/control_commands.h"
#include "control/server/store_volumes.h"
#include "control/store/volume_vfs.h"
#include "queue/volume/volume_set.h"

namespace postcore::control {

using nlohmann::json;

// The member of the volume set `name` means: as listed in the status, as the profile names
// it (under the data directory), or by its last path component.
Result<volume::MemberStatus> ControlCommands::find_member(const std::string& name) const {
  std::ifstream in(data_dir_ + "/volume.status");
  if (!in) return make_error(ENOENT, "no volume status in " + data_dir_);
  std::stringstream text;
  text << in.rdbuf();
  auto members = volume::VolumeSet::parse_status(text.str());
  if (!members) return members.error();
  for (const auto& m : *members) {
    if (m.root == name || m.root == data_dir_ + "/" + name ||
        m.root.substr(m.root.rfind('/') + 1) == name)
      return m;
  }
  return make_error(ENOENT, "no member " + name + " in the volume set");
}

// The dataplane owns the volume set: it picks a request file up within 200 ms.
Result<void> ControlCommands::request_volume_change(const std::string& file,
                                                    const std::string& root) const {
  const std::string request = data_dir_ + "/" + file;
  std::ofstream out(request);
  out << root << "\n";
  if (!out) return make_error(EIO, "cannot write " + request);
  return {};
}

void ControlCommands::add_misc_commands() {
  // The dataplane keeps DATA/volume.status current; the control plane only reads it.
  add("volume.status", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    std::ifstream in(data_dir_ + "/volume.status");
    if (!in)
      return make_error(
          ENOENT, "no volume status in " + data_dir_ + " (the dataplane writes it when it starts)");
    std::stringstream text;
    text << in.rdbuf();
    std::map<std::string, std::string> activities;
    auto members = volume::VolumeSet::parse_status(text.str(), &activities);
    if (!members) return members.error();
    json out = {{"members", json::array()},
                {"scrub", activities["scrub"]},
                {"resilver", activities["resilver"]}};
    // The store's part of each member, as the control plane keeps it (store_volumes.h).
    std::vector<volume::MemberStatus> ours;
    if (volumes_) ours = volumes_->set().status();
    for (const auto& m : *members) {
      json member = {{"root", m.root},
                     {"state", volume::to_string(m.state)},
                     {"generation", m.generation},
                     {"errors", m.errors},
                     {"repaired", m.repaired},
                     {"reason", m.reason}};
      for (const auto& s : ours) {
        if (s.root != store_member_root(m.root) || s.state == volume::MemberState::absent) continue;
        member["store"] = {{"state", volume::to_string(s.state)},
                           {"generation", s.generation},
                           {"errors", s.errors},
                           {"repaired", s.repaired},
                           {"reason", s.reason}};
      }
      out["members"].push_back(std::move(member));
    }
    return out;
  });
  // A member with a new (or repaired) disk is rebuilt from the healthy ones, online: the
  // dataplane picks the request up within 200 ms.
  add("volume.replace", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    auto found = find_member(*member);
    if (!found) return found.error();
    if (found->state == volume::MemberState::healthy)
      return make_error(EINVAL, found->root + " is healthy: there is nothing to rebuild");
    if (auto r = request_volume_change("volume.resilver-request", found->root); !r)
      return r.error();
    return json{{"member", found->root}};
  });
  // A new member (a directory on another disk) joins empty and is resilvered.
  add("volume.add", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    if (member->empty()) return make_error(EINVAL, "a member directory must not be empty");
    const std::string root = (*member)[0] == '/' ? *member : data_dir_ + "/" + *member;
    if (find_member(*member)) return make_error(EEXIST, root + " is a member already");
    if (auto r = request_volume_change("volume.add-request", root); !r) return r.error();
    return json{{"member", root}};
  });
  add("volume.remove", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    auto found = find_member(*member);
    if (!found) return found.error();
    if (auto r = request_volume_change("volume.remove-request", found->root); !r) return r.error();
    return json{{"member", found->root}};
  });
  // Asks the dataplane, which owns the volume set, to scrub it: it looks for the request
  // at its next check (within 200 ms) and reports progress in the volume status.
  add("volume.scrub", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    // The store is small: its copies are checked here and now.
    json reply = {{"requested", true}};
    if (volumes_) {
      auto scrubbed = store_.scrub();
      if (!scrubbed) return scrubbed.error();
      reply["store"] = {{"pages", scrubbed->pages},
                        {"mended", scrubbed->mended},
                        {"unreadable", scrubbed->unreadable}};
    }
    const std::string request = data_dir_ + "/volume.scrub-request";
    std::ofstream out(request);
    if (!out) return make_error(EIO, "cannot write " + request);
    return reply;
  });
  add("status", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto version = store_.version();
    if (!version) return version.error();
    auto domains = store_.list_domains();
    if (!domains) return domains.error();
    return json{{"directory_version", *version},
                {"published_version", published_ ? published_version_ : 0},
                {"schema_version", store_.schema_version()},
                {"domains", domains->size()},
                {"pid", getpid()}};
  });
  add("audit", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto limit = a.optional_number("limit");
    auto since = a.optional_number("since_ms");
    if (!limit) return limit.error();
    if (!since) return since.error();
    if (auto f = a.finish(); !f) return f.error();
    auto entries = store_.audit(limit->value_or(100), static_cast<int64_t>(since->value_or(0)));
    if (!entries) return entries.error();
    json out = json::array();
    for (const auto& e : *entries)
      out.push_back({{"id", e.id},
                     {"time_ms", e.time_ms},
                     {"uid", e.uid},
                     {"origin", e.origin},
                     {"action", e.action},
                     {"object", e.object},
                     {"detail", e.detail}});
    return out;
  });
  add("relay.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto network = a.string("network");
    if (!network) return network.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.add_relay_network(actor, *network); !r) return r.error();
    return json::object();
  });
  add("relay.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto network = a.string("network");
    if (!network) return network.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_relay_network(actor, *network); !r) return r.error();
    return json::object();
  });
  add("relay.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto networks = store_.list_relay_networks();
    if (!networks) return networks.error();
    return json(*networks);
  });
}

}  // namespace postcore::control
