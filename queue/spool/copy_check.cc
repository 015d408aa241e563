#include "queue/spool/copy_check.h"

#include <cerrno>

#include <fmt/format.h>

#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "queue/spool/segment_scan.h"

namespace postcore::spool {

Result<void> check_index_copy(std::string_view bytes) {
  auto index = decode_index(bytes);
  if (!index) return index.error();
  return {};
}

Result<void> check_segment_copy(volume::FileIo& io, int fd, bool sealed_whole) {
  auto scan = scan_segment(io, fd, [](const RecordHeader&, uint64_t, std::string_view) {});
  if (!scan) return scan.error();
  if (!scan->corruption.empty()) {
    return make_error(EBADMSG, fmt::format("{} damaged region(s), the first at byte {}: {}",
                                           scan->corruption.size(), scan->corruption[0].offset,
                                           scan->corruption[0].what));
  }
  if (sealed_whole && (!scan->sealed || scan->tail_bytes != 0)) {
    return make_error(EBADMSG, fmt::format("not sealed whole ({} bytes after the last good record)",
                                           scan->tail_bytes));
  }
  return {};
}

Result<void> check_member_file(volume::FileIo& io, int fd, const std::string& relative) {
  if (!relative.starts_with("spool/")) return {};
  const std::string name = relative.substr(relative.rfind('/') + 1);
  if (parse_segment_file_name(name)) return check_segment_copy(io, fd, false);
  if (!parse_index_file_name(name)) return {};
  auto size = io.size(fd);
  if (!size) return size.error();
  std::string bytes(*size, '\0');
  uint64_t done = 0;
  while (done < bytes.size()) {
    auto n = io.read(fd, done, bytes.data() + done, bytes.size() - done);
    if (!n) return n.error();
    if (*n == 0) break;
    done += *n;
  }
  bytes.resize(done);
  return check_index_copy(bytes);
}

}  // namespace postcore::spool
