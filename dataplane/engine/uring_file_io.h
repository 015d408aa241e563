// UringFileIo: the production FileIo of a reactor core. The hot path (write,
// datasync) goes through the core's io_uring so a group commit never blocks the loop;
// the rare synchronous calls (start-up, segment rotation) are plain syscalls.
#pragma once

#include <memory>
#include <vector>

#include "dataplane/engine/reactor.h"
#include "queue/volume/file_io.h"

namespace postcore::engine {

class UringFileIo final : public volume::FileIo {
 public:
  explicit UringFileIo(Reactor& reactor);
  ~UringFileIo() override;

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

  void write(int fd, uint64_t offset, const void* data, size_t len,
             volume::IoCallback done) override;
  void datasync(int fd, volume::IoCallback done) override;

  size_t in_flight() const { return in_flight_; }

 private:
  struct Op;
  Op* take_op(volume::IoCallback done);
  void give_back(Op* op);

  Reactor& reactor_;
  std::vector<std::unique_ptr<Op>> all_ops_;
  std::vector<Op*> free_ops_;
  size_t in_flight_ = 0;
};

}  // namespace postcore::engine
