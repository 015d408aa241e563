#include "queue/spool/record.h"

#include <fmt/core.h>

#include "common/crc32c.h"
#include "queue/spool/wire.h"

namespace postcore::spool {
namespace {

constexpr uint32_t kMagic = 0x50430000u;  // "PC" in the top two bytes
constexpr char kZeros[kRecordAlignment] = {};

uint32_t magic_type(RecordType type) {
  return kMagic | (kRecordFormatVersion << 8) | static_cast<uint8_t>(type);
}

bool known_type(uint8_t type) {
  return type >= static_cast<uint8_t>(RecordType::segment) &&
         type <= static_cast<uint8_t>(RecordType::seal);
}

Error format_error(std::string message) {
  return make_error(EBADMSG, std::move(message));
}

}  // namespace

uint32_t header_seed(uint64_t nonce) {
  return crc32c(&nonce, sizeof nonce);
}

uint32_t append_record(std::string& out, uint32_t seed, RecordType type, uint64_t key,
                       std::string_view payload) {
  const uint32_t payload_crc = crc32c(payload);
  char header[kRecordHeaderSize];
  wire::store<uint32_t>(header, magic_type(type));
  wire::store<uint32_t>(header + 4, static_cast<uint32_t>(payload.size()));
  wire::store<uint64_t>(header + 8, key);
  wire::store<uint32_t>(header + 16, payload_crc);
  wire::store<uint32_t>(header + 20, crc32c_extend(seed, header, 20));
  out.append(header, kRecordHeaderSize);
  out.append(payload);
  out.append(kZeros, padded_payload_size(payload.size()) - payload.size());
  return payload_crc;
}

Result<RecordHeader> decode_header(const char* header, uint32_t seed) {
  const uint32_t word = wire::load<uint32_t>(header);
  if ((word & 0xFFFF0000u) != kMagic) return format_error("bad record magic");
  if (((word >> 8) & 0xFF) != kRecordFormatVersion) {
    return format_error(fmt::format("unknown record format version {}", (word >> 8) & 0xFF));
  }
  if (wire::load<uint32_t>(header + 20) != crc32c_extend(seed, header, 20)) {
    return format_error("record header CRC mismatch");
  }
  if (!known_type(word & 0xFF))
    return format_error(fmt::format("unknown record type {}", word & 0xFF));
  RecordHeader h;
  h.type = static_cast<RecordType>(word & 0xFF);
  h.payload_length = wire::load<uint32_t>(header + 4);
  h.key = wire::load<uint64_t>(header + 8);
  h.payload_crc = wire::load<uint32_t>(header + 16);
  if (h.payload_length > kMaxRecordPayload) return format_error("record length out of range");
  return h;
}

Result<void> check_payload(const RecordHeader& header, std::string_view padded) {
  if (padded.size() != padded_payload_size(header.payload_length)) {
    return format_error("record payload truncated");
  }
  if (crc32c(padded.data(), header.payload_length) != header.payload_crc) {
    return format_error("record payload CRC mismatch");
  }
  for (size_t i = header.payload_length; i < padded.size(); i++) {
    if (padded[i] != 0) return format_error("record padding is not zero");
  }
  return {};
}

Result<RecordView> decode_record(std::string_view bytes, uint32_t seed) {
  if (bytes.size() < kRecordHeaderSize) return format_error("record header truncated");
  auto header = decode_header(bytes.data(), seed);
  if (!header) return header.error();
  const uint64_t size = record_size(header->payload_length);
  if (bytes.size() < size) return format_error("record payload truncated");
  std::string_view padded = bytes.substr(kRecordHeaderSize, size - kRecordHeaderSize);
  if (auto ok = check_payload(*header, padded); !ok) return ok.error();
  return RecordView{*header, padded.substr(0, header->payload_length), static_cast<size_t>(size)};
}

std::string encode_segment_info(const SegmentInfo& info) {
  std::string out;
  wire::put<uint32_t>(out, kRecordFormatVersion);
  wire::put<uint16_t>(out, info.shard);
  wire::put<uint16_t>(out, 0);
  wire::put<uint32_t>(out, info.segment);
  wire::put<uint32_t>(out, 0);
  wire::put<uint64_t>(out, info.nonce);
  return out;
}

Result<SegmentInfo> decode_segment_info(std::string_view payload) {
  wire::Decoder d(payload);
  uint32_t version = 0, reserved32 = 0;
  uint16_t reserved16 = 0;
  SegmentInfo info;
  d.get(&version);
  d.get(&info.shard);
  d.get(&reserved16);
  d.get(&info.segment);
  d.get(&reserved32);
  d.get(&info.nonce);
  if (!d.done()) return format_error("malformed SEGMENT record");
  if (version != kRecordFormatVersion) return format_error("unknown segment format version");
  return info;
}

std::string encode_end(const EndInfo& end) {
  std::string out;
  wire::put<uint64_t>(out, end.content_length);
  wire::put<uint32_t>(out, end.content_crc);
  wire::put<uint32_t>(out, end.chunk_count);
  return out;
}

Result<EndInfo> decode_end(std::string_view payload) {
  wire::Decoder d(payload);
  EndInfo end;
  d.get(&end.content_length);
  d.get(&end.content_crc);
  d.get(&end.chunk_count);
  if (!d.done()) return format_error("malformed END record");
  return end;
}

std::string encode_done(uint32_t recipient_index) {
  std::string out;
  wire::put<uint32_t>(out, recipient_index);
  wire::put<uint32_t>(out, 0);
  return out;
}

Result<uint32_t> decode_done(std::string_view payload) {
  wire::Decoder d(payload);
  uint32_t index = 0, reserved = 0;
  d.get(&index);
  d.get(&reserved);
  if (!d.done()) return format_error("malformed DONE record");
  return index;
}

std::string encode_u64(uint64_t value) {
  std::string out;
  wire::put<uint64_t>(out, value);
  return out;
}

Result<uint64_t> decode_u64(std::string_view payload) {
  wire::Decoder d(payload);
  uint64_t value = 0;
  d.get(&value);
  if (!d.done()) return format_error("malformed record payload");
  return value;
}

std::string_view record_type_name(RecordType type) {
  switch (type) {
    case RecordType::segment:
      return "SEGMENT";
    case RecordType::envelope:
      return "ENVELOPE";
    case RecordType::chunk:
      return "CHUNK";
    case RecordType::end:
      return "END";
    case RecordType::abort:
      return "ABORT";
    case RecordType::done:
      return "DONE";
    case RecordType::mark:
      return "MARK";
    case RecordType::seal:
      return "SEAL";
  }
  return "UNKNOWN";
}

}  // namespace postcore::spool
