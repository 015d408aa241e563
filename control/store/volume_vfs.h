// VolumeVfs: an SQLite VFS whose durable files (the database and its write-ahead log) go
// through a volume::FileIo, so that the configuration store lives on the mirrored volume
// set like the spool: every write and fdatasync reaches each healthy member, a member that
// fails is taken out (at a new generation) while the store goes on, and reads are checked.
//
// Checks:
//  - Every page of the database carries a CRC32C of the rest of the page in its last
//    kPageReserve bytes (SQLite's per-page reserved space), set here as the page is
//    written. A page read back is checked; a copy that fails is read past and mended from
//    a member whose copy passes (MirroredFileIo::read_checked).
//  - The write-ahead log has SQLite's own chained frame checksums. Before SQLite opens the
//    database, reconcile_wal() makes the members' copies agree on the longest run of
//    committed frames any of them holds. The store checkpoints the log into the database
//    after every commit, so a page is read from the log only while it is recovered.
//
// Locking: the VFS takes no file locks. One process owns the store (postcore-control
// holds DATA/control/control.lock) and opens it in exclusive locking mode, which is also
// what lets SQLite keep the log's index in its own memory (the VFS has no shared memory).
// Temporary files (sorting, VACUUM) are not durable and go to SQLite's default VFS.
//
// Threads: as the FileIo behind it (one thread).
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/volume/file_io.h"

namespace postcore::store {

// Bytes at the end of each database page that hold its CRC32C (little-endian).
inline constexpr int kPageReserve = 4;

void set_page_checksum(void* page, size_t size);
bool page_checksum_ok(const void* page, size_t size);

// Page size and reserved bytes per page, from the first 100 bytes of a database file;
// nothing when `header` is not an SQLite database header.
struct PageFormat {
  uint32_t page_size = 0;
  uint32_t reserve = 0;
};
std::optional<PageFormat> parse_database_header(std::string_view header);

// How many leading bytes of a write-ahead log hold a valid header and frames up to the
// last commit (SQLite's checksum chain, salts and commit markers): what recovery keeps.
uint64_t wal_committed_length(std::string_view wal);

// Makes every copy of the log at `wal_path` hold what the copy with the longest committed
// run holds, and cuts all of them after that run. No log: nothing to do.
Result<void> reconcile_wal(volume::FileIo& files, const std::string& wal_path);

// What scrub_database() found: pages looked at, damaged copies mended from a good one,
// and pages no copy of which passes its check (reported, left as they are).
struct DatabaseScrub {
  uint64_t pages = 0;
  uint64_t mended = 0;
  uint64_t unreadable = 0;
};

// Reads every copy of every page of the database at `path` (one whose pages carry
// checksums, with its log folded in) and mends each copy that fails its check from one
// that passes.
Result<DatabaseScrub> scrub_database(volume::FileIo& files, const std::string& path);

class VolumeVfs {
 public:
  // Registers the VFS under a name of its own (name()); `files` must outlive it.
  explicit VolumeVfs(volume::FileIo& files);
  ~VolumeVfs();
  VolumeVfs(const VolumeVfs&) = delete;
  VolumeVfs& operator=(const VolumeVfs&) = delete;

  const char* name() const { return name_.c_str(); }
  volume::FileIo& files() { return files_; }
  sqlite3_vfs* fallback() { return fallback_; }

 private:
  sqlite3_vfs vfs_{};
  sqlite3_vfs* fallback_;  // SQLite's default VFS: temporary files, time, randomness
  std::string name_;
  volume::FileIo& files_;
};

}  // namespace postcore::store
