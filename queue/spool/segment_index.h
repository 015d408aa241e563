// The index file written next to a sealed segment (seg-XXXXXXXX.idx), so that start-up
// learns a sealed segment's messages without reading the segment.
//
// Layout (little-endian), protected as a whole by a trailing CRC-32C:
//   header   magic "PCIX", version, shard, segment, nonce, data_end,
//            message count, done-entry count
//   messages key, first_offset, end_offset, content_length, content_crc,
//            recipient count, then ceil(recipients / 64) words of done bits
//   done     key, recipient   (the DONE records the segment itself holds)
//   trailer  CRC-32C of everything before it, magic "PCIE"
//
// The index is only an accelerator: the segment is the truth. A missing index, or one
// that fails any check, makes start-up scan the segment instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "queue/spool/stored_message.h"

namespace postcore::spool {

struct SegmentIndex {
  uint16_t shard = 0;
  uint32_t segment = 0;
  uint64_t nonce = 0;
  uint64_t data_end = 0;  // the segment file's length: the end of its SEAL record
  std::vector<StoredMessage> messages;
  std::vector<DoneEntry> done_entries;
};

std::string encode_index(const SegmentIndex& index);
Result<SegmentIndex> decode_index(std::string_view bytes);

}  // namespace postcore::spool
