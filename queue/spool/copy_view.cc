#include "queue/spool/copy_view.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace postcore::spool {

Result<void> copy_between(volume::FileIo& io, int fd, size_t from, size_t to, uint64_t begin,
                          uint64_t end) {
  constexpr size_t kChunk = 256 * 1024;
  std::string a(kChunk, '\0'), b(kChunk, '\0');
  for (uint64_t at = begin; at < end; at += kChunk) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(kChunk, end - at));
    auto got = io.read_copy(fd, from, at, a.data(), len);
    if (!got) return got.error();
    if (*got == 0) break;
    auto theirs = io.read_copy(fd, to, at, b.data(), len);
    if (!theirs) return theirs.error();
    if (*got == *theirs && std::memcmp(a.data(), b.data(), *got) == 0) continue;
    if (auto r = io.mend_copy(fd, to, at, a.data(), *got); !r) return r;
  }
  return {};
}

}  // namespace postcore::spool
