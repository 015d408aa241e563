// UringFileIo: the production FileIo of a reactor core. The hot path (write,
// datasync) goes through the core's io_uring so a group commit never blocks the loop;
// the rare synchronous calls (start-up, segment rotation) are SyscallFileIo's.
#pragma once

#include <memory>
#include <vector>

#include "dataplane/engine/reactor.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::engine {

class UringFileIo final : public volume::SyscallFileIo {
 public:
  explicit UringFileIo(Reactor& reactor);
  ~UringFileIo() override;

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
