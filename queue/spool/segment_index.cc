#include "queue/spool/segment_index.h"

#include <cerrno>

#include "common/crc32c.h"
#include "queue/spool/wire.h"

namespace postcore::spool {
namespace {

constexpr uint32_t kIndexMagic = 0x58494350;    // "PCIX"
constexpr uint32_t kTrailerMagic = 0x45494350;  // "PCIE"
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kHeaderSize = 48;
constexpr size_t kTrailerSize = 8;
constexpr size_t kMessageFixedSize = 40;
constexpr size_t kDoneEntrySize = 16;

Error bad_index(std::string what) {
  return make_error(EBADMSG, "bad index: " + what);
}

}  // namespace

std::string encode_index(const SegmentIndex& index) {
  std::string out;
  size_t size = kHeaderSize + kTrailerSize + index.done_entries.size() * kDoneEntrySize;
  for (const auto& m : index.messages) size += kMessageFixedSize + m.done.word_count() * 8;
  out.reserve(size);
  wire::put<uint32_t>(out, kIndexMagic);
  wire::put<uint32_t>(out, kIndexVersion);
  wire::put<uint16_t>(out, index.shard);
  wire::put<uint16_t>(out, 0);
  wire::put<uint32_t>(out, index.segment);
  wire::put<uint64_t>(out, index.nonce);
  wire::put<uint64_t>(out, index.data_end);
  wire::put<uint64_t>(out, index.messages.size());
  wire::put<uint64_t>(out, index.done_entries.size());
  for (const auto& m : index.messages) {
    wire::put<uint64_t>(out, m.key);
    wire::put<uint64_t>(out, m.first_offset);
    wire::put<uint64_t>(out, m.end_offset);
    wire::put<uint64_t>(out, m.content_length);
    wire::put<uint32_t>(out, m.content_crc);
    wire::put<uint32_t>(out, m.done.size());
    for (size_t i = 0; i < m.done.word_count(); i++) wire::put<uint64_t>(out, m.done.word(i));
  }
  for (const auto& d : index.done_entries) {
    wire::put<uint64_t>(out, d.key);
    wire::put<uint32_t>(out, d.recipient);
    wire::put<uint32_t>(out, 0);
  }
  wire::put<uint32_t>(out, crc32c(out));
  wire::put<uint32_t>(out, kTrailerMagic);
  return out;
}

Result<SegmentIndex> decode_index(std::string_view bytes) {
  if (bytes.size() < kHeaderSize + kTrailerSize) return bad_index("too short");
  const size_t body = bytes.size() - kTrailerSize;
  if (wire::load<uint32_t>(bytes.data() + body + 4) != kTrailerMagic) {
    return bad_index("no trailer");
  }
  if (wire::load<uint32_t>(bytes.data() + body) != crc32c(bytes.data(), body)) {
    return bad_index("CRC mismatch");
  }
  wire::Decoder d(bytes.substr(0, body));
  SegmentIndex index;
  uint32_t magic = 0, version = 0;
  uint16_t reserved16 = 0;
  uint64_t message_count = 0, done_count = 0;
  d.get(&magic);
  d.get(&version);
  d.get(&index.shard);
  d.get(&reserved16);
  d.get(&index.segment);
  d.get(&index.nonce);
  d.get(&index.data_end);
  d.get(&message_count);
  d.get(&done_count);
  if (magic != kIndexMagic || version != kIndexVersion)
    return bad_index("unknown magic or version");
  // Counts are bounded by what the bytes could hold before anything is allocated.
  if (message_count > d.remaining() / kMessageFixedSize ||
      done_count > d.remaining() / kDoneEntrySize) {
    return bad_index("counts exceed file size");
  }
  index.messages.reserve(message_count);
  for (uint64_t i = 0; i < message_count && d.ok(); i++) {
    StoredMessage m;
    uint32_t recipients = 0;
    d.get(&m.key);
    d.get(&m.first_offset);
    d.get(&m.end_offset);
    d.get(&m.content_length);
    d.get(&m.content_crc);
    d.get(&recipients);
    if (!d.ok() || recipients > d.remaining() * 8) return bad_index("truncated message entry");
    m.done = DoneBits(recipients);
    for (size_t w = 0; w < m.done.word_count(); w++) {
      uint64_t bits = 0;
      d.get(&bits);
      m.done.set_word(w, bits);
    }
    index.messages.push_back(std::move(m));
  }
  index.done_entries.reserve(done_count);
  for (uint64_t i = 0; i < done_count && d.ok(); i++) {
    DoneEntry e;
    uint32_t reserved = 0;
    d.get(&e.key);
    d.get(&e.recipient);
    d.get(&reserved);
    index.done_entries.push_back(e);
  }
  if (!d.done()) return bad_index("malformed or trailing bytes");
  return index;
}

}  // namespace postcore::spool
