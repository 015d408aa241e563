// StoreVolumes: the volume set the configuration store lives on, as the control plane
// keeps it.
//
// The store's files sit in a `control` directory inside each member of the profile's
// volume set (DATA/control stands for them all). The control plane owns that part of
// each member the way the dataplane owns the rest: its own volume.meta with its own
// generation (MEMBER/control/volume.meta), so that a member that missed a commit of the
// store is never trusted for it, whatever the spool's state, and no process ever writes
// another's generation. Its state is kept in DATA/control/volume.status.
//
// Both sets follow the operator's commands, which go to the dataplane (volume replace,
// add, remove): every second the control plane looks at the dataplane's latest report of
// the set (VolumeJobs::members: what it sends with each volume.next) and
//  - takes out a member the dataplane took out (a dying disk is found by whichever
//    process writes to it first; the other follows within a second),
//  - brings in a member the dataplane added, and
//  - rebuilds its part of a member the dataplane made healthy (replaced, resilvered):
//    between two commands, the store is checkpointed and its database file copied whole
//    onto the member from a healthy one, which then joins at a new generation.
// The dataplane's resilver leaves the `control` directory alone.
//
// Threads: the control plane's one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/profile.h"
#include "common/result.h"
#include "control/server/volume_jobs.h"
#include "queue/volume/mirror_file_io.h"
#include "queue/volume/posix_file_io.h"
#include "queue/volume/volume_set.h"

namespace postcore::store {
class Store;
}

namespace postcore::control {

class StoreVolumes {
 public:
  // Opens the set for the store under `data_dir` from the profile's members (with the
  // run-time edits of DATA/volume.members). A store kept in DATA/control by an earlier
  // version, outside the set, is copied into it first.
  static Result<std::unique_ptr<StoreVolumes>> open(const Profile& profile,
                                                    const std::string& data_dir);

  // What the store's files go through.
  volume::FileIo& files() { return *files_; }
  const std::string& store_path() const { return store_path_; }
  volume::VolumeSet& set() { return *set_; }

  // From the control plane's loop, between commands: checks the members, follows the
  // dataplane's view of the set (see above; `dataplane` is its latest report), and rebuilds
  // members for `store`.
  void tick(store::Store& store, const VolumeJobs& dataplane);

  // Rebuilds the store's part of member `i` (not healthy) from a healthy member.
  Result<void> rebuild(store::Store& store, size_t i);

 private:
  StoreVolumes(std::string data_dir, std::shared_ptr<volume::VolumeSet> set,
               std::chrono::milliseconds timeout);
  void follow_dataplane(store::Store& store, const VolumeJobs& dataplane);

  const std::string data_dir_;
  const std::string store_path_;
  std::shared_ptr<volume::VolumeSet> set_;
  volume::PosixFileIo posix_;
  std::vector<std::function<void()>> deferred_;
  std::unique_ptr<volume::MirroredFileIo> files_;
  std::chrono::steady_clock::time_point next_check_{};
};

// DATA/control in member `root`: where the store's part of a member lives.
std::string store_member_root(const std::string& root);

}  // namespace postcore::control
