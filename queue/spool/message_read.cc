#include "queue/spool/message_read.h"

#include <fmt/core.h>

#include <optional>
#include <vector>

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

namespace {

// Where a message's records end: after its END record.
uint64_t message_end(const StoredMessage& m) {
  return m.end_offset + record_size(encode_end(EndInfo{}).size());
}

// Mends each copy in `bad` from copy `good` over the message's records. Highest copy first:
// a mend that fails takes its member out, which renumbers the copies after it, so the
// mending stops there.
void mend_message(volume::FileIo& io, int fd, const StoredMessage& m, size_t good,
                  std::vector<size_t> bad) {
  for (auto it = bad.rbegin(); it != bad.rend(); ++it)
    if (!copy_between(io, fd, good, *it, m.first_offset, message_end(m))) break;
}

}  // namespace

Result<Envelope> read_envelope_from_copies(volume::FileIo& io, int fd, uint64_t nonce,
                                           const StoredMessage& message) {
  std::optional<Result<Envelope>> served;
  std::optional<size_t> good;
  std::vector<size_t> bad;
  Result<Envelope> last = damaged(message, message.first_offset, "no copy to read");
  for (size_t c = 0; c < io.copies(fd); c++) {
    CopyView view(io, c);
    // The whole message is checked, not only its ENVELOPE: the mend covers all of it.
    auto whole =
        read_content(view, fd, nonce, message, [](std::string_view) { return Result<void>(); });
    if (!whole && whole.error().code != EBADMSG) return whole.error();
    if (!whole) {
      bad.push_back(c);
      last = whole.error();
      continue;
    }
    if (!good) {
      good = c;
      served = read_envelope(view, fd, nonce, message);
    }
  }
  if (!good) return last;
  mend_message(io, fd, message, *good, std::move(bad));
  return std::move(*served);
}

Result<void> read_content_from_copies(volume::FileIo& io, int fd, uint64_t nonce,
                                      const StoredMessage& message, const ContentSink& sink,
                                      uint64_t delivered) {
  std::optional<size_t> good;
  std::vector<size_t> bad;
  Result<void> last = damaged(message, message.first_offset, "no copy to read");
  for (size_t c = 0; c < io.copies(fd); c++) {
    CopyView view(io, c);
    uint64_t seen = 0;
    auto r = read_content(view, fd, nonce, message, [&](std::string_view piece) -> Result<void> {
      const uint64_t at = seen;
      seen += piece.size();
      if (good || seen <= delivered) return {};  // checked only, or sent already
      auto ok = sink(piece.substr(static_cast<size_t>(delivered > at ? delivered - at : 0)));
      delivered = seen;
      return ok;
    });
    if (!r && r.error().code != EBADMSG) return r;  // the sink's error, or the disk's
    if (!r) {
      bad.push_back(c);
      last = r;
    } else if (!good) {
      good = c;
    }
  }
  if (!good) return last;
  mend_message(io, fd, message, *good, std::move(bad));
  return {};
}

}  // namespace postcore::spool
