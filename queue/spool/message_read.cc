#include "queue/spool/message_read.h"

#include <fmt/core.h>

#include <algorithm>

#include "common/crc32c.h"
#include "queue/spool/block_reader.h"
#include "queue/spool/copy_view.h"
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

// Where a message's records end: after its END record.
uint64_t message_end(const StoredMessage& m) {
  return m.end_offset + record_size(encode_end(EndInfo{}).size());
}

// Makes every other copy equal to copy `good` over [begin, end) (copy_between writes only
// where a copy differs). Highest copy first: a mend that fails takes its member out and
// renumbers the copies after it, so the mending stops there.
void mend_from(volume::FileIo& io, int fd, size_t good, uint64_t begin, uint64_t end) {
  for (size_t c = io.copies(fd); c-- > 0;)
    if (c != good && !copy_between(io, fd, good, c, begin, end)) return;
}

// The ENVELOPE record; `record_bytes` receives its size on disk.
Result<Envelope> read_envelope_once(volume::FileIo& io, int fd, uint64_t nonce,
                                    const StoredMessage& message, uint64_t* record_bytes) {
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
  *record_bytes = record->size;
  return envelope;
}

// Streams the content past its first `*delivered` bytes (which the sink has already had)
// and counts what it hands on in `*delivered`; `*sink_failed` tells the sink's error from
// the data's.
Result<void> read_content_once(volume::FileIo& io, int fd, uint64_t nonce,
                               const StoredMessage& message, const ContentSink& sink,
                               uint64_t* delivered, bool* sink_failed) {
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
      const std::string_view piece = record->payload;
      crc = crc32c_combine(crc, h.payload_crc, piece.size());
      const uint64_t at = length;
      length += piece.size();
      chunks++;
      if (length > *delivered) {
        auto ok = sink(piece.substr(static_cast<size_t>(*delivered - std::min(*delivered, at))));
        *delivered = length;
        if (!ok) {
          *sink_failed = true;
          return ok;
        }
      }
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

}  // namespace

Result<Envelope> read_envelope(volume::FileIo& io, int fd, uint64_t nonce,
                               const StoredMessage& message) {
  uint64_t bytes = 0;
  auto envelope = read_envelope_once(io, fd, nonce, message, &bytes);
  if (envelope || envelope.error().code != EBADMSG || io.copies(fd) < 2) return envelope;
  for (size_t c = 0; c < io.copies(fd); c++) {
    CopyView view(io, c);
    auto good = read_envelope_once(view, fd, nonce, message, &bytes);
    if (!good) continue;
    mend_from(io, fd, c, message.first_offset, message.first_offset + bytes);
    return good;
  }
  return envelope;
}

Result<void> read_content(volume::FileIo& io, int fd, uint64_t nonce, const StoredMessage& message,
                          const ContentSink& sink) {
  uint64_t delivered = 0;
  bool sink_failed = false;
  auto ok = read_content_once(io, fd, nonce, message, sink, &delivered, &sink_failed);
  if (ok || sink_failed || ok.error().code != EBADMSG || io.copies(fd) < 2) return ok;
  // Each piece the sink had was verified, so it is the same on every good copy: the read
  // goes on from there.
  for (size_t c = 0; c < io.copies(fd); c++) {
    CopyView view(io, c);
    auto r = read_content_once(view, fd, nonce, message, sink, &delivered, &sink_failed);
    if (r) {
      mend_from(io, fd, c, message.first_offset, message_end(message));
      return r;
    }
    if (sink_failed || r.error().code != EBADMSG) return r;
  }
  return ok;
}

}  // namespace postcore::spool
