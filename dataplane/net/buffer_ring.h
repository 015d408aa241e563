// BufferRing: a provided-buffer ring (IORING_REGISTER_PBUF_RING) for multishot recv.
// liburing 2.3 has no io_uring_setup_buf_ring(), so the ring memory is mapped and
// registered here by hand. The kernel picks a buffer per received chunk; the owner
// gives it back with recycle() once the bytes are consumed.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace postcore::net {

class BufferRing {
 public:
  BufferRing() = default;
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  Result<void> init(io_uring* ring, uint16_t group_id, unsigned count_pow2, size_t buffer_size);

  uint16_t group_id() const { return group_id_; }
  std::string_view view(uint16_t buffer_id, size_t len) const {
    return {data_ + static_cast<size_t>(buffer_id) * buffer_size_, len};
  }
  void recycle(uint16_t buffer_id);

 private:
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  size_t ring_bytes_ = 0;
  char* data_ = nullptr;
  size_t data_bytes_ = 0;
  size_t buffer_size_ = 0;
  unsigned count_ = 0;
  uint16_t group_id_ = 0;
};

}  // namespace postcore::net
