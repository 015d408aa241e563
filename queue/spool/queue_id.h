// Queue ids and the spool's file layout.
//
// A queue id is 20 upper-case hex digits: shard (4), segment (8), message number
// within the segment (8), e.g. 0002 0000001F 00000A41. It names the directory
// (DATA/spool/shard-002) and the file (seg-0000001F.log) that hold every record of
// the message; the offset inside the file comes from the shard's in-memory table.
// Segment numbers only grow, so a queue id is never reused by a later message.
//
// Records carry the 64-bit message key = segment << 32 | number; the shard is implied
// by the directory and checked against the SEGMENT record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postcore::spool {

struct QueueId {
  uint16_t shard = 0;
  uint32_t segment = 0;
  uint32_t number = 0;

  bool operator==(const QueueId&) const = default;
};

constexpr uint64_t message_key(uint32_t segment, uint32_t number) {
  return (uint64_t{segment} << 32) | number;
}
constexpr uint32_t key_segment(uint64_t key) {
  return static_cast<uint32_t>(key >> 32);
}
constexpr uint32_t key_number(uint64_t key) {
  return static_cast<uint32_t>(key);
}

std::string format_queue_id(const QueueId& id);
inline std::string format_queue_id(uint16_t shard, uint64_t key) {
  return format_queue_id(QueueId{shard, key_segment(key), key_number(key)});
}
// Accepts exactly 20 hex digits, either case.
std::optional<QueueId> parse_queue_id(std::string_view text);

// DATA/spool/shard-NNN
std::string shard_dir(const std::string& data_dir, uint16_t shard);
std::string shard_dir_name(uint16_t shard);
std::optional<uint16_t> parse_shard_dir_name(std::string_view name);

std::string segment_file_name(uint32_t segment);  // seg-XXXXXXXX.log
std::string index_file_name(uint32_t segment);    // seg-XXXXXXXX.idx
std::optional<uint32_t> parse_segment_file_name(std::string_view name);
std::optional<uint32_t> parse_index_file_name(std::string_view name);
// Written before an index is renamed into place; a leftover one is removed on open.
inline constexpr std::string_view kTempSuffix = ".tmp";

}  // namespace postcore::spool
