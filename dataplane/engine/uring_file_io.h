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

  // Writes always on an io-wq worker, never inline in the submitting io_uring_enter: a
  // write to a file system that stopped answering (frozen, or a disk past its dirty
  // limits) would otherwise block the whole reactor, and with it the timeout that takes
  // that member of a mirrored set out. It costs throughput (about 15 % here), so it is for
  // sets with more than one member: with one there is nothing to go on with anyway.
  void set_async_writes(bool on) { async_writes_ = on; }

 private:
  struct Op;
  Op* take_op(volume::IoCallback done);
  void give_back(Op* op);

  Reactor& reactor_;
  std::vector<std::unique_ptr<Op>> all_ops_;
  std::vector<Op*> free_ops_;
  size_t in_flight_ = 0;
  bool async_writes_ = false;
};

}  // namespace postcore::engine
