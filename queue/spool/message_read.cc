#include "queue/spool/message_read.h"

#include <fmt/core.h>

#include "common/crc32c.h"
#include "queue/spool/block_reader.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/record.h"

namespace postcore::spool {
namespace {

Error damaged(const StoredMessage& m, uint64_t offset, std::string_view what) {
  return make_error(EBADMSG, fmt::format("message {:016X}: {} at offset {}", m.key, what, offset));
}

// The verified record at `offset`.
Result<RecordView> read_record(BlockReader& reader, uint64_t offset, uint32_t seed,
                               const StoredMessage& m) {
  auto head = reader.view(offset, kRecordHeaderSize);
  if (!head) return head.error();
  if (head->size() < kRecordHeaderSize) return damaged(m, offset, "record header truncated");
  auto header = decode_header(head->data(), seed);
  if (!header) return damaged(m, offset, header.error().message);
  auto whole = reader.view(offset, record_size(header->payload_length));
  if (!whole) return whole.error();
  auto record = decode_record(*whole, seed);
  if (!record) return damaged(m, offset, record.error().message);
  return record;
}

}  // namespace

Result<Envelope> read_envelope(volume::FileIo& io, int fd, uint64_t nonce,
                               const StoredMessage& message) {
  auto size = io.size(fd);
  if (!size) return size.error();
  BlockReader reader(io, fd, *size);
  auto record = read_record(reader, message.first_offset, header_seed(nonce), message);
  if (!record) return record.error();
  if (record->header.type != RecordType::envelope || record->header.key != message.key) {
    return damaged(message, message.first_offset, "no ENVELOPE record");
  }
  auto envelope = decode_envelope(record->payload);
  if (!envelope) return damaged(message, message.first_offset, envelope.error().message);
  return envelope;
}

Result<void> read_content(volume::FileIo& io, int fd, uint64_t nonce, const StoredMessage& message,
                          const ContentSink& sink) {
  auto size = io.size(fd);
  if (!size) return size.error();
  BlockReader reader(io, fd, *size);
  const uint32_t seed = header_seed(nonce);
  uint64_t length = 0;
  uint32_t crc = 0;
  uint32_t chunks = 0;
  // Records of other messages may sit between this one's (large messages stream while
  // others commit); they are verified too, since their lengths steer the walk.
  for (uint64_t pos = message.first_offset; pos <= message.end_offset;) {
    auto record = read_record(reader, pos, seed, message);
    if (!record) return record.error();
    const RecordHeader& h = record->header;
    if (pos == message.first_offset && (h.type != RecordType::envelope || h.key != message.key)) {
      return damaged(message, pos, "no ENVELOPE record");
    }
    if (h.key == message.key && h.type == RecordType::chunk) {
      crc = crc32c_combine(crc, h.payload_crc, record->payload.size());
      length += record->payload.size();
      chunks++;
      if (auto ok = sink(record->payload); !ok) return ok;
    } else if (h.key == message.key && h.type == RecordType::end) {
      auto end = decode_end(record->payload);
      if (!end || pos != message.end_offset) return damaged(message, pos, "bad END record");
      if (end->content_length != length || end->content_crc != crc || end->chunk_count != chunks ||
          length != message.content_length || crc != message.content_crc) {
        return damaged(message, pos, "content does not match its END record");
      }
      return {};
    }
    pos += record->size;
  }
  return damaged(message, message.end_offset, "END record not found");
}

}  // namespace postcore::spool
