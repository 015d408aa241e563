// The scrub of a mirrored spool: walks every sealed segment (and its index) on every
// healthy member, checks each copy record by record (every CRC32C), compares the copies
// byte for byte, and mends a copy that is damaged or differs from a good one with the
// good bytes. Runs on a thread of its own beside the reactors, with its reads and writes
// paced (`bytes_per_second`), and reads the members' files directly: sealed segments
// and indexes never change (reclaim only removes them), so it needs no lock on the spool.
// The active segment of each shard is left alone: its tail is being written.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "queue/volume/volume_set.h"

namespace postcore::spool {

struct ScrubReport {
  uint64_t files = 0;                   // files compared (segments and indexes)
  uint64_t bytes = 0;                   // bytes read, all members together
  uint64_t mismatches = 0;              // files whose copies were damaged or differed
  uint64_t repaired = 0;                // of those, mended from a good copy
  std::vector<std::string> unrepaired;  // what could not be mended, and why
};

struct ScrubOptions {
  uint64_t bytes_per_second = 100ull << 20;  // all reads and writes of the scrub together
  const std::atomic<bool>* stop = nullptr;   // set to end the scrub early
};

// Every tree of segment files under a member root: the spool and the mail store's logs.
inline const std::vector<std::string> kSegmentTrees = {"spool", "mail/log", "mail/blob"};

// `spool_subdir` is the tree's path under each member root (one of kSegmentTrees). A member that
// gives an I/O error is marked degraded in `set`.
ScrubReport scrub_spool(volume::VolumeSet& set, const std::string& spool_subdir,
                        const ScrubOptions& options = {});
// scrub_spool of each tree in turn, the reports added up.
ScrubReport scrub_trees(volume::VolumeSet& set, const std::vector<std::string>& trees,
                        const ScrubOptions& options = {});

}  // namespace postcore::spool
