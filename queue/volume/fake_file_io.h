// FakeFileIo: an in-memory FileIo for tests, with named fault points and a crash model.
//
// Crash model: every file has a current content and a durable content. A completed
// datasync (or sync) makes the durable content equal to the current one; crash() throws
// the current content away and keeps only the durable one, as after kill -9 followed by
// a power cut. Names follow the same rule: creating, renaming or unlinking a file, and
// creating a directory, is durable only after sync_dir of the directory it is in (and a
// name survives only where every directory above it does).
//
// Asynchronous writes and datasyncs are queued; run_one() / run_pending() perform them
// in submission order and run their callbacks, so a test decides exactly when each
// completion happens and can crash between any two of them.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "queue/volume/file_io.h"

namespace postcore::volume {

class FakeFileIo final : public FileIo {
 public:
  enum class Fault {
    short_write,      // the next write stores only the first half and reports that count
    enospc_on_write,  // the next write stores nothing and reports -ENOSPC
    eio_on_write,     // the next write stores nothing and reports -EIO
    erofs_on_write,   // the next write stores nothing and reports -EROFS (remounted read-only)
    eio_on_datasync,  // the next asynchronous datasync reports -EIO and makes nothing durable
    eio_on_sync,      // the next synchronous sync fails with EIO
    fail_open,        // the next open fails with EIO
    fail_rename,      // the next rename fails with EIO
    short_read,       // the next read returns only the first half of what it could
    eio_on_read,      // the next read fails with EIO
    hang,             // the next write or datasync never completes (a disk that stopped)
  };

  struct Counters {
    uint64_t writes = 0;
    uint64_t datasyncs = 0;  // asynchronous ones that completed without a fault
    uint64_t syncs = 0;
    uint64_t sync_dirs = 0;
    uint64_t reads = 0;
    uint64_t opens = 0;
  };

  FakeFileIo();
  FakeFileIo(const FakeFileIo&) = delete;
  FakeFileIo& operator=(const FakeFileIo&) = delete;

  Result<int> open(const std::string& path, int flags, mode_t mode) override;
  Result<void> close(int fd) override;
  Result<uint64_t> size(int fd) override;
  Result<size_t> read(int fd, uint64_t offset, void* buf, size_t len) override;
  Result<void> truncate(int fd, uint64_t len) override;
  Result<void> sync(int fd) override;
  Result<void> mkdir(const std::string& path) override;
  Result<void> sync_dir(const std::string& path) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> unlink(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Result<void> write_at(int fd, uint64_t offset, const void* data, size_t len) override;

  void write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) override;
  void datasync(int fd, IoCallback done) override;

  // Arms `fault` for the next `times` operations of its kind on files whose path
  // contains `path_contains` (every file when empty).
  void inject(Fault fault, int times = 1, std::string path_contains = {});
  void clear_faults() { faults_.clear(); }

  // Performs the oldest queued asynchronous operation and runs its callback.
  bool run_one();
  // Performs queued operations, including ones their callbacks queue, until none is left.
  size_t run_pending();
  size_t pending() const { return queue_.size(); }

  // Power loss: keeps only durable names and durable contents, forgets every open
  // descriptor and drops queued operations without running their callbacks.
  void crash();
  // Power loss that keeps part of what was written but never synced, as a disk may:
  // each file keeps a length anywhere between its durable and its current size, and
  // sectors past the durable size may read back as zeros. `seed` picks the outcome.
  void crash_torn(uint64_t seed);

  // Inspection and tampering for tests; tampering changes current and durable content.
  bool exists(const std::string& path) const;
  std::string contents(const std::string& path) const;
  std::string durable_contents(const std::string& path) const;
  void put_file(const std::string& path, std::string data);
  // Every directory on an absolute `path`, durable, as if it had been there before.
  void put_directories(const std::string& path);
  void flip_bit(const std::string& path, uint64_t offset, int bit = 0);
  void remove_file(const std::string& path);
  const Counters& counters() const { return counters_; }
  size_t open_descriptors() const { return fds_.size(); }

 private:
  struct File {
    std::string data;
    std::string durable;
  };
  struct Descriptor {
    std::shared_ptr<File> file;
    std::string path;
    bool writable;
  };
  struct Op {
    bool is_write;
    int fd;
    uint64_t offset;
    const void* data;
    size_t len;
    IoCallback done;
  };
  struct ArmedFault {
    Fault fault;
    int remaining;
    std::string path_contains;
  };

  bool take_fault(Fault fault, const std::string& path);
  void keep_durable_names();
  Descriptor* descriptor(int fd);
  int perform(const Op& op);

  std::map<std::string, std::shared_ptr<File>> names_;
  std::map<std::string, std::shared_ptr<File>> durable_names_;
  std::set<std::string> dirs_;
  std::set<std::string> durable_dirs_;
  std::map<int, Descriptor> fds_;
  int next_fd_ = 3;
  std::deque<Op> queue_;
  std::vector<ArmedFault> faults_;
  Counters counters_;
};

}  // namespace postcore::volume
