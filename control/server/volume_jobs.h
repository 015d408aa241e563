// VolumeJobs: the operator's requests for the volume set (replace, add, remove, scrub), held
// by the control plane until the dataplane, which owns the set, has taken and finished each
// one, and the dataplane's latest word on its members' states.
//
// Both travel over the admin socket, not through files: the dataplane asks for the next job
// every 200 ms (`volume.next`, carrying its status text and the jobs it is running), and
// answers each one it took (`volume.report`). A request is never lost between the
// processes: it stays queued until taken, and postcorectl can follow it by its id
// (`volume.job`) to its outcome. A job the dataplane no longer runs (it restarted, or never
// received it) fails rather than stay running for ever. Ids go on across restarts of the
// control plane (the last one is kept in DATA/control/volume.jobs), so a report about an
// old job never lands on a new one; a report must also name the job's verb and member.
//
// Thread: the control plane's admin loop only. Trust: what the dataplane sends is decoded
// strictly (parse_volume_status; known states only).
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
// `behind`: the job the dataplane is busy with, named for a queued job that waits for it.
nlohmann::json job_json(const VolumeJob& job, uint64_t behind = 0);

class VolumeJobs {
 public:
  // `data_dir`: where the dataplane also keeps its status as a file (DATA/volume.status),
  // read while it has not spoken since this process started.
  explicit VolumeJobs(std::string data_dir);

  // The same request queued or running already is that job, not a second one.
  const VolumeJob& enqueue(const std::string& verb, const std::string& member);
  std::optional<VolumeJob> find(uint64_t id) const;
  // The job the dataplane said it is busy with, last time; 0 when it is idle.
  uint64_t busy_with() const { return busy_with_; }

  // The dataplane's side, at each volume.next: its status, and the jobs it is running now
  // (or has finished without having said so yet); any other job marked running is lost.
  Result<void> dataplane_status(const std::string& status_text);
  void dataplane_runs(const std::vector<uint64_t>& running, bool busy);
  std::optional<VolumeJob> take();  // the oldest queued job, now running
  // Only for a running job, and only from the dataplane that runs it: `verb` and `member`
  // must be the job's.
  Result<void> report(uint64_t id, const std::string& verb, const std::string& member,
                      VolumeJob::State state, const std::string& outcome);

  // The members as the dataplane last reported them (from the file before it spoke).
  Result<std::vector<volume::MemberStatus>> members(
      std::map<std::string, std::string>* activities = nullptr) const;

 private:
  VolumeJob* find_mutable(uint64_t id);

  std::string data_dir_;
  std::string ids_path_;        // where the last id handed out is kept; empty: nowhere
  std::deque<VolumeJob> jobs_;  // the latest kHistory, oldest first
  uint64_t next_id_ = 1;
  uint64_t busy_with_ = 0;
  std::optional<std::string> status_text_;
};

}  // namespace postcore::control
