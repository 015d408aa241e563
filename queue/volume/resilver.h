// Resilvering: rebuilding a member of a volume set that is not healthy (a replaced disk,
// a member that dropped out or came back stale) from a healthy one, online.
//
//  1. Before the member takes any write: files it has that the healthy member has not are
//     removed, and files longer than the healthy member's copy are cut to its length.
//  2. The member starts taking every write (VolumeSet::begin_resilver); files being written
//     are opened on it as they are used.
//  3. Every file of the healthy member is compared with the member's copy chunk by chunk
//     and what differs is written, then synced: a restart in the middle costs reads, not
//     writes, so a resilver resumes where it stopped. Files only grow while the spool
//     writes (it appends), so a copy never undoes a newer write.
//  4. After `settle` (writes issued before step 2 have finished by then) a second pass
//     compares again and copies what is still missing.
//  5. The member's directories are synced and it joins at a new generation
//     (VolumeSet::finish_resilver).
// Reads and writes are paced to `bytes_per_second`. Runs on a thread of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "queue/volume/volume_set.h"

namespace postcore::volume {

struct ResilverOptions {
  uint64_t bytes_per_second = 100ull << 20;
  // Top-level directories of each member that another process keeps in step itself (the
  // control plane's store: its files are rewritten in place, so a copy from here could
  // undo a newer write). The resilver neither copies, cuts nor removes anything in them.
  std::vector<std::string> skip_dirs;
  std::chrono::milliseconds settle{1000};
  const std::atomic<bool>* stop = nullptr;           // set to abandon (the member stays out)
  std::function<void(const std::string&)> progress;  // a line now and then
};

struct ResilverReport {
  uint64_t files = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t removed = 0;  // files the member had that the set has not
};

Result<ResilverReport> resilver(VolumeSet& set, size_t member, const ResilverOptions& options);

}  // namespace postcore::volume
