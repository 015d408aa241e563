// FileIo: the one door through which durable state reaches the disk. The spool (and,
// later, mailboxes and the control store) never call the kernel directly, so that
//  - the dataplane can route the hot path (write, fdatasync) through its io_uring,
//  - a mirrored volume set can fan every write out to all of its members, and
//  - tests can substitute an in-memory fake that fails on demand at named points.
//
// Threading: an instance belongs to one thread (one reactor core). Asynchronous
// completions run on that thread, never from inside the call that issued them.
#pragma once

#include <sys/types.h>

#include <cerrno>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace postcore::volume {

// Result of an asynchronous operation: bytes transferred (>= 0) or -errno.
using IoCallback = std::function<void(int result)>;

class FileIo {
 public:
  virtual ~FileIo() = default;

  // Synchronous operations, used at start-up and on rare events (segment rotation).
  // `flags` and `mode` are as for open(2). Returns a handle usable with the calls below.
  virtual Result<int> open(const std::string& path, int flags, mode_t mode) = 0;
  virtual Result<void> close(int fd) = 0;
  virtual Result<uint64_t> size(int fd) = 0;
  virtual Result<size_t> read(int fd, uint64_t offset, void* buf, size_t len) = 0;
  virtual Result<void> truncate(int fd, uint64_t len) = 0;
  virtual Result<void> sync(int fd) = 0;  // fdatasync, synchronously
  // Exists already is fine. Like a file's, the new name is durable only after sync_dir of
  // its parent.
  virtual Result<void> mkdir(const std::string& path) = 0;
  virtual Result<void> sync_dir(const std::string& path) = 0;
  virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  virtual Result<void> unlink(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  // Writes all of `data` at `offset`, synchronously (not durable until sync()): for
  // repairs, which happen outside the hot path.
  virtual Result<void> write_at(int fd, uint64_t offset, const void* data, size_t len) = 0;

  // Mirrored storage keeps one copy of each file per healthy member; the defaults describe
  // storage with one copy. read_copy() reads copy `copy` (below copies(fd)); read() may
  // come from any copy. mend_copy() overwrites part of one copy with bytes from a good one
  // and makes them durable. read_checked() reads like read() and, when `good` rejects the
  // bytes, tries the other copies and mends the bad ones from the first good one.
  using Check = std::function<bool(const void* data, size_t len)>;
  virtual size_t copies(int /*fd*/) { return 1; }

  // Whether the synchronous calls above may run on another thread than the owner's, even
  // after this FileIo is gone: true for plain system calls, which hold no state of it.
  // A mirrored set then runs each member's call on a thread of its own, bounded in time.
  virtual bool calls_run_on_any_thread() const { return false; }
  // The size of one copy: after a crash each member's unsynced tail is its own.
  virtual Result<uint64_t> copy_size(int fd, size_t /*copy*/) { return size(fd); }
  virtual Result<size_t> read_copy(int fd, size_t /*copy*/, uint64_t offset, void* buf,
                                   size_t len) {
    return read(fd, offset, buf, len);
  }
  virtual Result<void> mend_copy(int /*fd*/, size_t /*copy*/, uint64_t /*offset*/,
                                 const void* /*data*/, size_t /*len*/) {
    return make_error(EINVAL, "one copy: nothing to mend from");
  }
  virtual Result<size_t> read_checked(int fd, uint64_t offset, void* buf, size_t len,
                                      const Check& /*good*/) {
    return read(fd, offset, buf, len);
  }

  // Asynchronous hot path. `data` must stay valid until `done` runs. A short write is
  // reported as the byte count; callers treat it as a failure of the whole write.
  virtual void write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) = 0;
  virtual void datasync(int fd, IoCallback done) = 0;
};

}  // namespace postcore::volume
