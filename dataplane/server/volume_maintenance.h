// VolumeMaintenance: the volume set's jobs, asked for by an operator through the control
// plane (postcorectl volume replace | add | remove | scrub) and run here, where the set is
// owned, one at a time on a thread of their own beside the reactors.
//
// Every 200 ms the main loop's poll() speaks to the control plane over the admin socket:
// it reports each finished job (`volume.report`), then sends the set's status text and
// takes the next job (`volume.next`) when none is running. Nothing travels through files:
// a job the control plane handed out is this process's until it reports the outcome.
// A resilver in progress is remembered in DATA/volume.resilver (the member and its job)
// until it finishes, and resumed at the next start-up (what was copied already is
// compared, not written again); its job is then still running for the control plane.
// Progress and outcome also go to the volume status (VolumeSet::set_activity) and the log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "control/api/admin_client.h"
#include "queue/volume/volume_set.h"

namespace postcore::server {

class VolumeMaintenance {
 public:
  VolumeMaintenance(std::shared_ptr<volume::VolumeSet> set, std::string data_dir,
                    uint64_t bytes_per_second, std::chrono::milliseconds io_timeout);
  ~VolumeMaintenance();  // stops a job in progress and waits for it

  // From the main loop: reports to the control plane and starts the job it hands out.
  void poll();

 private:
  // How a job ended, for the control plane: done or failed, and the status line.
  struct Outcome {
    bool ok = false;
    std::string text;
  };
  // A job as the control plane handed it out; id 0 for a resilver resumed without one.
  struct Job {
    uint64_t id = 0;
    std::string verb;
    std::string member;
  };
  struct Report {
    Job job;
    Outcome outcome;
  };

  Result<nlohmann::json> call(const std::string& command, const nlohmann::json& args);
  void send_reports();
  void take_next();
  void run(const nlohmann::json& job);
  void start(const Job& job, std::function<Outcome()> work);
  void start_resilver(const Job& job);
  Outcome remove(const std::string& root);
  Outcome scrub();
  Outcome resilver(size_t member);
  std::string remembered_path() const { return data_dir_ + "/volume.resilver"; }

  std::shared_ptr<volume::VolumeSet> set_;
  const std::string data_dir_;
  const uint64_t bytes_per_second_;
  const std::chrono::milliseconds io_timeout_;
  std::optional<api::AdminClient> control_;
  bool resume_checked_ = false;
  Job running_job_;  // the job the thread runs (or ran last)
  std::mutex mutex_;
  std::deque<Report> reports_;  // guarded by mutex_: finished, not yet told
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace postcore::server
