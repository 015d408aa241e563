// VolumeMaintenance: the volume set's background jobs, run one at a time on a thread of
// their own beside the reactors, at the request of an operator:
//  - a scrub (`postcorectl volume scrub` leaves DATA/volume.scrub-request), and
//  - a resilver (`postcorectl volume replace MEMBER` leaves DATA/volume.resilver-request
//    naming the member). A resilver in progress is remembered in DATA/volume.resilver
//    until it finishes, and started again at the next start-up (it resumes: what was
//    copied already is compared, not written again).
// Progress and outcome go to the volume status (VolumeSet::set_activity) and the log.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/profile.h"
#include "queue/volume/volume_set.h"

namespace postcore::server {

class VolumeMaintenance {
 public:
  VolumeMaintenance(std::shared_ptr<volume::VolumeSet> set, std::string data_dir,
                    uint64_t bytes_per_second, std::chrono::milliseconds io_timeout);
  ~VolumeMaintenance();  // stops a job in progress and waits for it

  // From the main loop: starts a requested job if none is running.
  void poll();

 private:
  void start(std::function<void()> job);
  void scrub();
  void resilver(size_t member);

  std::shared_ptr<volume::VolumeSet> set_;
  const std::string data_dir_;
  const uint64_t bytes_per_second_;
  const std::chrono::milliseconds io_timeout_;
  bool resume_checked_ = false;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace postcore::server
