#include "dataplane/engine/uring_file_io.h"

namespace postcore::engine {

struct UringFileIo::Op final : Completion {
  UringFileIo* owner = nullptr;
  volume::IoCallback done;
  void complete(int res, uint32_t) override {
    volume::IoCallback cb = std::move(done);
    done = nullptr;
    owner->give_back(this);
    cb(res);
  }
};

UringFileIo::UringFileIo(Reactor& reactor) : reactor_(reactor) {}

UringFileIo::~UringFileIo() = default;

UringFileIo::Op* UringFileIo::take_op(volume::IoCallback done) {
  Op* op;
  if (free_ops_.empty()) {
    all_ops_.push_back(std::make_unique<Op>());
    op = all_ops_.back().get();
    op->owner = this;
  } else {
    op = free_ops_.back();
    free_ops_.pop_back();
  }
  op->done = std::move(done);
  ++in_flight_;
  return op;
}

void UringFileIo::give_back(Op* op) {
  --in_flight_;
  free_ops_.push_back(op);
}

void UringFileIo::write(int fd, uint64_t offset, const void* data, size_t len,
                        volume::IoCallback done) {
  io_uring_sqe* s = reactor_.sqe_for(take_op(std::move(done)));
  io_uring_prep_write(s, fd, data, static_cast<unsigned>(len), offset);
  if (async_writes_) io_uring_sqe_set_flags(s, IOSQE_ASYNC);
}

void UringFileIo::datasync(int fd, volume::IoCallback done) {
  io_uring_sqe* s = reactor_.sqe_for(take_op(std::move(done)));
  io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
}

}  // namespace postcore::engine
