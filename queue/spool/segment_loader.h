// Turning one segment file (and its index, if any) into the list of committed messages
// it holds. Shared by the shard's start-up and the read-only inspection tools.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "queue/spool/segment_scan.h"
#include "queue/spool/stored_message.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

struct LoadedSegment {
  uint32_t id = 0;
  uint64_t nonce = 0;
  bool from_index = false;  // the index was used; the segment itself was not read
  bool sealed = false;
  uint64_t file_size = 0;
  uint64_t valid_end = 0;   // end of the kept records; a torn tail starts here
  uint64_t tail_bytes = 0;  // torn tail: written after the last datasync, never acknowledged
  uint64_t records = 0;
  std::vector<StoredMessage> messages;  // committed and verified, by key; done bits as indexed
  std::vector<DoneEntry> done_entries;  // DONE records this segment holds
  std::vector<ScanProblem> corruption;
  std::vector<uint64_t> damaged;  // keys of messages that must not be served
  uint64_t incomplete = 0;        // begun but never committed
  std::string index_problem;      // why an index that exists was not used
};

// Loads the segment open as `fd`. Uses `index_bytes` when given and consistent with the
// file; otherwise (or with `force_scan`) reads the whole file, checking every CRC.
// On mirrored storage (io.copies(fd) > 1) a scanned segment is read copy by copy: a
// damaged copy is mended from an intact one, and the copy that ends first is used.
Result<LoadedSegment> load_segment(volume::FileIo& io, int fd, uint16_t shard, uint32_t id,
                                   std::optional<std::string_view> index_bytes,
                                   bool force_scan = false);

// Reads a whole small file (an index) through FileIo. With `good`, a mirrored copy whose
// bytes it rejects is read past and mended from one it accepts.
Result<std::string> read_whole_file(volume::FileIo& io, const std::string& path,
                                    const volume::FileIo::Check& good = nullptr);

}  // namespace postcore::spool
