// VolumeScrub: runs the spool scrub (queue/spool/spool_scrub.h) on a thread of its own
// when an operator asks for one (`postcorectl volume scrub` leaves DATA/volume.scrub-request)
// and reports its progress and outcome in the volume status. One scrub at a time.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "queue/volume/volume_set.h"

namespace postcore::server {

class VolumeScrub {
 public:
  VolumeScrub(std::shared_ptr<volume::VolumeSet> set, std::string data_dir);
  ~VolumeScrub();  // stops a scrub in progress and waits for it

  // From the main loop: starts a scrub if one was requested and none is running.
  void poll();

 private:
  std::shared_ptr<volume::VolumeSet> set_;
  const std::string request_path_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace postcore::server
