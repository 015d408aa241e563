// Resilvering: rebuilding a member of a volume set that is not healthy (a replaced disk,
// a member that dropped out or came back stale) from a healthy one, online.
//
//  1. Before the member takes any write: files it has that the healthy member has not are
//     removed, and files longer than the healthy member's copy are cut to its length.
//  2. The member starts taking every change (VolumeSet::begin_resilver); files being
//     written are opened on it as they are used. Changes issued before that went to the
//     others only: the rebuild waits until every one of them has landed
//     (VolumeSet::drained_before, bounded by `drain_timeout`), so the copy below sees them.
//  3. Every file of the healthy member is compared with the member's copy chunk by chunk
//     and what differs is written, then synced: a restart in the middle costs reads, not
//     writes, so a resilver resumes where it stopped. Files only grow while the spool
//     writes (it appends), so a copy never undoes a newer write. A file that `verify` can
//     check is copied from a copy that passes it: the healthy member's, or, when that one
//     fails (a latent bad sector), another healthy member's; with no copy passing, the
//     file is copied as it is and named in the report (a rebuild cannot make it worse).
//     A file that was deleted on the set while it was being copied is deleted again.
//  4. A second pass does the same for the names that appeared meanwhile (a file renamed
//     on the set before its first copy reached the member).
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
#include "queue/volume/file_io.h"
#include "queue/volume/volume_set.h"

namespace postcore::volume {

struct ResilverOptions {
  uint64_t bytes_per_second = 100ull << 20;
  // Top-level directories of each member that another process keeps in step itself (the
  // control plane's store: its files are rewritten in place, so a copy from here could
  // undo a newer write). The resilver neither copies, cuts nor removes anything in them.
  std::vector<std::string> skip_dirs;
  // How long changes issued before the member joined may take to land: the set's
  // io_timeout and a tick, after which a member still holding one up is taken out.
  std::chrono::milliseconds drain_timeout{31000};
  // Whether a member's copy of the file at `relative` (open as `fd`) is intact; a file it
  // does not know passes. None: every copy passes.
  std::function<Result<void>(FileIo& io, int fd, const std::string& relative)> verify;
  const std::atomic<bool>* stop = nullptr;           // set to abandon (the member stays out)
  std::function<void(const std::string&)> progress;  // a line now and then
};

struct ResilverReport {
  uint64_t files = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t removed = 0;              // files the member had that the set has not
  uint64_t from_other_copy = 0;      // files copied from another member: the first failed `verify`
  std::vector<std::string> damaged;  // "FILE: why" for files with no copy that passes `verify`
};

Result<ResilverReport> resilver(VolumeSet& set, size_t member, const ResilverOptions& options);

}  // namespace postcore::volume
