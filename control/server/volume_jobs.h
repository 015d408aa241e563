// VolumeJobs: the operator's requests for the volume set (replace, add, remove, scrub), held
// by the control plane until the dataplane, which owns the set, has taken and finished each
// one, and the dataplane's latest word on its members' states.
//
// Both travel over the admin socket, not through files: the dataplane asks for the next job
// every 200 ms (`volume.next`, carrying its status text), and answers each one it took
// (`volume.report`). A request is never lost between the processes: it stays queued until
// taken, and postcorectl can follow it by its id (`volume.job`) to its outcome.
//
// Thread: the control plane's admin loop only. Trust: what the dataplane sends is decoded
// strictly (VolumeSet::parse_status; known states only).
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "queue/volume/volume_set.h"

namespace postcore::control {

struct VolumeJob {
  enum class State { queued, running, done, failed };
  uint64_t id = 0;
  std::string verb;    // "replace", "add", "remove", "scrub"
  std::string member;  // the member's root; empty for a scrub
  State state = State::queued;
  std::string outcome;  // what the dataplane said when it finished (or why it failed)
};

std::string_view to_string(VolumeJob::State state);
std::optional<VolumeJob::State> parse_job_state(std::string_view text);
nlohmann::json job_json(const VolumeJob& job);

class VolumeJobs {
 public:
  // `data_dir`: where the dataplane also keeps its status as a file (DATA/volume.status),
  // read while it has not spoken since this process started.
  explicit VolumeJobs(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // The same request queued or running already is that job, not a second one.
  const VolumeJob& enqueue(const std::string& verb, const std::string& member);
  std::optional<VolumeJob> find(uint64_t id) const;

  // The dataplane's side. `running`: the jobs it is running now (a resilver it resumed);
  // when it has just started, every other job marked running was lost with its old self.
  Result<void> dataplane_status(const std::string& status_text);
  void dataplane_started(const std::vector<uint64_t>& running);
  std::optional<VolumeJob> take();  // the oldest queued job, now running
  Result<void> report(uint64_t id, VolumeJob::State state, const std::string& outcome);

  // The members as the dataplane last reported them (from the file before it spoke).
  Result<std::vector<volume::MemberStatus>> members(
      std::map<std::string, std::string>* activities = nullptr) const;

 private:
  VolumeJob* find_mutable(uint64_t id);

  std::string data_dir_;
  std::deque<VolumeJob> jobs_;  // the latest kHistory, oldest first
  uint64_t next_id_ = 1;
  std::optional<std::string> status_text_;
};

}  // namespace postcore::control
