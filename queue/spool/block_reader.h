// Sequential-ish reads of a segment file in large blocks, so that walking thousands of
// small records costs a handful of read calls instead of one per record.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

class BlockReader {
 public:
  static constexpr size_t kBlockBytes = 1 << 20;

  BlockReader(volume::FileIo& io, int fd, uint64_t file_size)
      : io_(io), fd_(fd), file_size_(file_size) {}

  uint64_t file_size() const { return file_size_; }

  // Bytes [offset, offset + len), or fewer when the file ends first. The view stays
  // valid until the next call.
  Result<std::string_view> view(uint64_t offset, size_t len);

 private:
  volume::FileIo& io_;
  int fd_;
  uint64_t file_size_;
  std::string buffer_;
  uint64_t base_ = 0;
  size_t filled_ = 0;
};

}  // namespace postcore::spool
