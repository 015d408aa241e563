#include "queue/spool/block_reader.h"

#include <algorithm>

namespace postcore::spool {

Result<std::string_view> BlockReader::view(uint64_t offset, size_t len) {
  if (offset >= file_size_) return std::string_view();
  len = static_cast<size_t>(std::min<uint64_t>(len, file_size_ - offset));
  if (offset >= base_ && offset + len <= base_ + filled_) {
    return std::string_view(buffer_.data() + (offset - base_), len);
  }
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(std::max(len, kBlockBytes), file_size_ - offset));
  if (buffer_.size() < want) buffer_.resize(want);
  base_ = offset;
  filled_ = 0;
  // A short read is retried for the rest; only a read of nothing ends early, which
  // means the file shrank under us (a concurrent truncate): report what is there.
  while (filled_ < want) {
    auto n = io_.read(fd_, offset + filled_, buffer_.data() + filled_, want - filled_);
    if (!n) return n.error();
    if (*n == 0) break;
    filled_ += *n;
  }
  return std::string_view(buffer_.data(), std::min(len, filled_));
}

}  // namespace postcore::spool
