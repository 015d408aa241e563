// Commands about the mirrored volume set. The dataplane owns the set: the operator's
// requests are queued here as jobs (volume_jobs.h) that the dataplane takes over this same
// socket, runs and reports on; postcorectl follows a job by its id.
#include <cerrno>

#include "control/server/control_commands.h"
#include "control/server/store_volumes.h"
#include "control/store/volume_vfs.h"
#include "queue/volume/volume_set.h"

namespace postcore::control {

using nlohmann::json;

// The member of the volume set `name` means: as the dataplane lists it, as the profile names
// it (under the data directory), or by its last path component.
Result<volume::MemberStatus> ControlCommands::find_member(const std::string& name) const {
  auto members = jobs_.members();
  if (!members) return members.error();
  for (const auto& m : *members) {
    if (m.root == name || m.root == data_dir_ + "/" + name ||
        m.root.substr(m.root.rfind('/') + 1) == name)
      return m;
  }
  return make_error(ENOENT, "no member " + name + " in the volume set");
}

namespace {

// The ids of the jobs the dataplane says it is running: a list of numbers, nothing else.
Result<std::vector<uint64_t>> job_ids(const json* value) {
  std::vector<uint64_t> ids;
  if (!value) return ids;
  if (!value->is_array()) return make_error(EINVAL, "volume.next: running must be a list");
  for (const json& id : *value) {
    if (!id.is_number_unsigned()) return make_error(EINVAL, "volume.next: running holds a non-id");
    ids.push_back(id.get<uint64_t>());
  }
  return ids;
}

}  // namespace

void ControlCommands::add_volume_commands() {
  add("volume.status", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    std::map<std::string, std::string> activities;
    auto members = jobs_.members(&activities);
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
  // A member with a new (or repaired) disk is rebuilt from the healthy ones, online.
  add("volume.replace", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    auto found = find_member(*member);
    if (!found) return found.error();
    if (found->state == volume::MemberState::healthy)
      return make_error(EINVAL, found->root + " is healthy: there is nothing to rebuild");
    return job_json(jobs_.enqueue("replace", found->root), jobs_.busy_with());
  });
  // A new member (a directory on another disk) joins empty and is resilvered.
  add("volume.add", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    if (member->empty()) return make_error(EINVAL, "a member directory must not be empty");
    const std::string root = (*member)[0] == '/' ? *member : data_dir_ + "/" + *member;
    if (auto found = find_member(root); found && found->root == root)
      return make_error(EEXIST, root + " is a member already");
    return job_json(jobs_.enqueue("add", root), jobs_.busy_with());
  });
  add("volume.remove", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto member = a.string("member");
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    auto found = find_member(*member);
    if (!found) return found.error();
    return job_json(jobs_.enqueue("remove", found->root), jobs_.busy_with());
  });
  add("volume.scrub", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    // The store is small: its copies are checked here and now; the spool's in the background.
    json store;
    if (volumes_) {
      auto scrubbed = store_.scrub();
      if (!scrubbed) return scrubbed.error();
      store = {{"pages", scrubbed->pages},
               {"mended", scrubbed->mended},
               {"unreadable", scrubbed->unreadable}};
    }
    json reply = job_json(jobs_.enqueue("scrub", ""), jobs_.busy_with());
    if (!store.is_null()) reply["store"] = std::move(store);
    return reply;
  });
  add("volume.job", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto id = a.optional_number("id");
    if (!id) return id.error();
    if (auto f = a.finish(); !f) return f.error();
    if (!*id) return make_error(EINVAL, "volume.job needs an id");
    auto job = jobs_.find(**id);
    if (!job) return make_error(ENOENT, "no volume job " + std::to_string(**id));
    return job_json(*job, jobs_.busy_with());
  });
  // The dataplane, every 200 ms: its members' states and the jobs it runs in, the next job
  // out (none while it is busy with one).
  add("volume.next", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto status = a.string("status");
    if (!status) return status.error();
    auto busy = a.boolean("busy", false);
    if (!busy) return busy.error();
    auto running = job_ids(a.raw("running"));
    if (!running) return running.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = jobs_.dataplane_status(*status); !r) return r.error();
    jobs_.dataplane_runs(*running, *busy);
    if (*busy) return json{{"job", nullptr}};
    auto job = jobs_.take();
    return json{{"job", job ? job_json(*job) : json(nullptr)}};
  });
  add("volume.report", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto id = a.optional_number("id");
    if (!id) return id.error();
    auto verb = a.string("verb");
    if (!verb) return verb.error();
    auto member = a.string("member");
    if (!member) return member.error();
    auto state = a.string("state");
    if (!state) return state.error();
    auto outcome = a.string("outcome");
    if (!outcome) return outcome.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parsed = parse_job_state(*state);
    if (!*id || !parsed) return make_error(EINVAL, "volume.report needs an id and a known state");
    if (auto r = jobs_.report(**id, *verb, *member, *parsed, *outcome); !r) return r.error();
    return json::object();
  });
}

}  // namespace postcore::control
