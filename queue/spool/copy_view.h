// Reading and mending one copy of a file kept on mirrored storage, for the spool's own
// checks: every record carries CRCs, so the spool knows which copy is good where the volume
// layer does not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "queue/volume/file_io.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::spool {

// One copy of a file as a FileIo, to its own size (after a crash each member's unsynced
// tail is its own): for scan_segment and the message readers.
class CopyView final : public volume::SyscallFileIo {
 public:
  CopyView(volume::FileIo& io, size_t copy) : io_(io), copy_(copy) {}
  Result<uint64_t> size(int fd) override { return io_.copy_size(fd, copy_); }
  Result<size_t> read(int fd, uint64_t offset, void* buf, size_t len) override {
    return io_.read_copy(fd, copy_, offset, buf, len);
  }
  void write(int, uint64_t, const void*, size_t, volume::IoCallback done) override { done(-EBADF); }
  void datasync(int, volume::IoCallback done) override { done(-EBADF); }

 private:
  volume::FileIo& io_;
  size_t copy_;
};

// Overwrites copy `to` with copy `from` in [begin, end), wherever they differ, durably
// (FileIo::mend_copy: counted as a repair of that member; a member that cannot take it is
// degraded).
Result<void> copy_between(volume::FileIo& io, int fd, size_t from, size_t to, uint64_t begin,
                          uint64_t end);

}  // namespace postcore::spool
