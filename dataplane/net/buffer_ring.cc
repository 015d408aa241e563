#include "dataplane/net/buffer_ring.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace postcore::net {

BufferRing::~BufferRing() {
  if (br_) {
    io_uring_unregister_buf_ring(ring_, group_id_);
    munmap(br_, ring_bytes_);
  }
  if (data_) munmap(data_, data_bytes_);
}

Result<void> BufferRing::init(io_uring* ring, uint16_t group_id, unsigned count_pow2,
                              size_t buffer_size) {
  ring_ = ring;
  group_id_ = group_id;
  count_ = count_pow2;
  buffer_size_ = buffer_size;
  ring_bytes_ = count_ * sizeof(io_uring_buf);
  void* mem =
      mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return make_error(errno, std::string("mmap: ") + std::strerror(errno));
  br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br_);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count_;
  reg.bgid = group_id_;
  if (int rc = io_uring_register_buf_ring(ring_, &reg, 0); rc < 0) {
    munmap(br_, ring_bytes_);
    br_ = nullptr;
    return make_error(-rc, std::string("io_uring_register_buf_ring: ") + std::strerror(-rc));
  }

  data_bytes_ = count_ * buffer_size_;
  mem = mmap(nullptr, data_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return make_error(errno, std::string("mmap: ") + std::strerror(errno));
  data_ = static_cast<char*>(mem);
  int mask = io_uring_buf_ring_mask(count_);
  for (unsigned i = 0; i < count_; ++i)
    io_uring_buf_ring_add(br_, data_ + i * buffer_size_, buffer_size_, i, mask, i);
  io_uring_buf_ring_advance(br_, count_);
  return {};
}

void BufferRing::recycle(uint16_t buffer_id) {
  io_uring_buf_ring_add(br_, data_ + static_cast<size_t>(buffer_id) * buffer_size_, buffer_size_,
                        buffer_id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace postcore::net
