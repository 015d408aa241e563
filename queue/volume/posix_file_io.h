// SyscallFileIo: the synchronous half of FileIo over plain blocking syscalls, shared by
// every real implementation (this one and the dataplane's io_uring one), which add only
// the asynchronous write and datasync.
//
// PosixFileIo: FileIo over plain blocking syscalls, for command-line tools, tests and
// benchmarks (the dataplane uses its io_uring implementation instead).
//
// The asynchronous calls are queued and performed, in submission order, by
// run_pending(); their callbacks run there too. This keeps the FileIo promise that a
// completion never runs inside the call that issued it.
#pragma once

#include <deque>

#include "queue/volume/file_io.h"

namespace postcore::volume {

class SyscallFileIo : public FileIo {
 public:
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
  bool calls_run_on_any_thread() const override { return true; }
};

class PosixFileIo final : public SyscallFileIo {
 public:
  PosixFileIo() = default;
  PosixFileIo(const PosixFileIo&) = delete;
  PosixFileIo& operator=(const PosixFileIo&) = delete;

  void write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) override;
  void datasync(int fd, IoCallback done) override;

  // Performs the queued asynchronous operations, including any queued by their own
  // callbacks, and returns how many ran.
  size_t run_pending();
  bool has_pending() const { return !queue_.empty(); }

 private:
  struct Op {
    bool is_write;
    int fd;
    uint64_t offset;
    const void* data;
    size_t len;
    IoCallback done;
  };
  std::deque<Op> queue_;
};

}  // namespace postcore::volume
