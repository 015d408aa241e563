// The published snapshot on disk: one file, `DIR/snapshot`, replaced atomically. The
// control plane publishes; the dataplane polls the stamp and loads a changed file.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "control/directory/model.h"

namespace postcore::directory {

inline constexpr const char* kSnapshotFileName = "snapshot";
inline constexpr const char* kSnapshotTempName = "snapshot.tmp";

// Writes DIR/snapshot.tmp, fdatasyncs it, renames it over DIR/snapshot and fsyncs DIR: a
// reader sees the old snapshot or the new one, whole, and after a crash the new one is
// there if this returned success. The file is mode 0600: it holds password hashes.
Result<void> publish_snapshot(const std::string& dir, const DirectoryData& data);

// Reads and decodes DIR/snapshot; errors name the file.
Result<DirectoryData> load_snapshot(const std::string& dir);

// What identifies one published file, cheaply: a publish always makes a new file (new
// inode), and the header's data version says which change it carries. Two stamps differ
// whenever the file was replaced, even within one mtime tick or if an inode is reused.
struct SnapshotStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t data_version = 0;

  friend bool operator==(const SnapshotStamp&, const SnapshotStamp&) = default;
};

// One open, fstat and 28-byte read of DIR/snapshot; ENOENT when nothing was published yet.
Result<SnapshotStamp> snapshot_stamp(const std::string& dir);

}  // namespace postcore::directory
