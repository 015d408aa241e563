// The on-disk record format of spool segment files.
//
// A segment file is a sequence of records, each 8-byte aligned:
//
//   offset  size  field
//   0       4     magic_type   0x5043'VV'TT: "PC", format version VV, record type TT
//   4       4     payload_length
//   8       8     key          the message the record belongs to (see queue_id.h)
//   16      4     payload_crc  CRC-32C of the payload
//   20      4     header_crc   CRC-32C of bytes 0..20, seeded with the segment's nonce
//   24      n     payload, then zero padding up to a multiple of 8 (checked on read)
//
// The header has its own CRC so that a reader can trust a record's length, and hop
// over a large payload, without reading the payload. Seeding it with a random
// per-segment nonce (stored in the SEGMENT record that opens every file) means that
// bytes which merely look like records - stale data from another file, or record
// images an attacker placed inside a message body - never validate: only a writer who
// knew the nonce produced them. All integers are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::spool {

enum class RecordType : uint8_t {
  segment = 1,   // first record of every file: format version, shard, segment id, nonce
  envelope = 2,  // a message's SMTP envelope (envelope_codec.h)
  chunk = 3,     // a piece of a message's content
  end = 4,       // a message is complete: content length, content CRC, chunk count
  abort = 5,     // a message that had records written will never be completed
  done = 6,      // one recipient of a message needs no more delivery
  mark = 7,      // how far the file was durable when this record was written
  seal = 8,      // the file is complete; nothing follows
};

inline constexpr uint32_t kRecordFormatVersion = 1;
inline constexpr size_t kRecordHeaderSize = 24;
inline constexpr size_t kRecordAlignment = 8;
// No valid record is larger; a header claiming more is damaged.
inline constexpr uint32_t kMaxRecordPayload = 16u << 20;

struct RecordHeader {
  RecordType type = RecordType::segment;
  uint32_t payload_length = 0;
  uint64_t key = 0;
  uint32_t payload_crc = 0;
};

constexpr uint64_t padded_payload_size(uint64_t payload_length) {
  return (payload_length + kRecordAlignment - 1) & ~uint64_t{kRecordAlignment - 1};
}
constexpr uint64_t record_size(uint64_t payload_length) {
  return kRecordHeaderSize + padded_payload_size(payload_length);
}

// The header CRC seed for a segment nonce. SEGMENT records themselves use nonce 0,
// because the nonce is what they carry.
uint32_t header_seed(uint64_t nonce);

// Appends one record to `out`; returns the payload CRC.
uint32_t append_record(std::string& out, uint32_t seed, RecordType type, uint64_t key,
                       std::string_view payload);

// Checks magic, version, type, header CRC and the length bound; does not look at the
// payload. `header` must hold kRecordHeaderSize bytes.
Result<RecordHeader> decode_header(const char* header, uint32_t seed);

// Checks the payload CRC and that the padding is zero. `padded` holds the payload
// followed by its padding (padded_payload_size bytes).
Result<void> check_payload(const RecordHeader& header, std::string_view padded);

// A whole record: header + payload, both checked.
struct RecordView {
  RecordHeader header;
  std::string_view payload;
  size_t size = 0;  // bytes the record occupies, padding included
};
Result<RecordView> decode_record(std::string_view bytes, uint32_t seed);

// Small fixed payloads.
struct SegmentInfo {
  uint16_t shard = 0;
  uint32_t segment = 0;
  uint64_t nonce = 0;
};
std::string encode_segment_info(const SegmentInfo& info);
Result<SegmentInfo> decode_segment_info(std::string_view payload);

struct EndInfo {
  uint64_t content_length = 0;
  uint32_t content_crc = 0;
  uint32_t chunk_count = 0;
};
std::string encode_end(const EndInfo& end);
Result<EndInfo> decode_end(std::string_view payload);

std::string encode_done(uint32_t recipient_index);
Result<uint32_t> decode_done(std::string_view payload);

// MARK: every byte before `durable_end` had completed a datasync when the record was
// written. SEAL carries the number of committed messages in the file.
std::string encode_u64(uint64_t value);
Result<uint64_t> decode_u64(std::string_view payload);

std::string_view record_type_name(RecordType type);

}  // namespace postcore::spool
