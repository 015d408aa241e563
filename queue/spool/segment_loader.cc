#include "queue/spool/segment_loader.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <algorithm>
#include <unordered_map>

#include "common/crc32c.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"

namespace postcore::spool {
namespace {

// Rebuilds committed messages from the record stream of one segment.
class MessageCollector {
 public:
  MessageCollector(uint16_t shard, uint32_t id, LoadedSegment& out)
      : shard_(shard), id_(id), out_(out) {}

  void visit(const RecordHeader& h, uint64_t offset, std::string_view payload) {
    switch (h.type) {
      case RecordType::segment:
        check_segment(offset, payload);
        break;
      case RecordType::envelope:
        on_envelope(h, offset, payload);
        break;
      case RecordType::chunk:
        on_chunk(h);
        break;
      case RecordType::end:
        on_end(h, offset, payload);
        break;
      case RecordType::abort:
        pending_.erase(h.key);
        break;
      case RecordType::done:
        on_done(h, offset, payload);
        break;
      case RecordType::mark:
      case RecordType::seal:
        break;
    }
  }

  void finish() {
    for (const auto& [key, p] : pending_) {
      if (!p.bad) out_.incomplete++;
    }
    std::sort(out_.messages.begin(), out_.messages.end(),
              [](const StoredMessage& a, const StoredMessage& b) { return a.key < b.key; });
    std::sort(out_.damaged.begin(), out_.damaged.end());
    out_.damaged.erase(std::unique(out_.damaged.begin(), out_.damaged.end()), out_.damaged.end());
  }

 private:
  struct Pending {
    uint64_t first_offset = 0;
    uint32_t recipients = 0;
    uint64_t length = 0;
    uint32_t crc = 0;
    uint32_t chunks = 0;
    bool bad = false;
  };

  void problem(uint64_t offset, uint64_t length, std::string what) {
    out_.corruption.push_back(ScanProblem{offset, length, std::move(what)});
  }

  void check_segment(uint64_t offset, std::string_view payload) {
    auto info = decode_segment_info(payload);
    if (info && (info->shard != shard_ || info->segment != id_)) {
      problem(offset, 0,
              fmt::format("file belongs to shard {} segment {:08X}", info->shard, info->segment));
    }
  }

  bool own_key(const RecordHeader& h, uint64_t offset) {
    if (key_segment(h.key) == id_) return true;
    problem(offset, record_size(h.payload_length), "record of a message of another segment");
    return false;
  }

  void on_envelope(const RecordHeader& h, uint64_t offset, std::string_view payload) {
    if (!own_key(h, offset)) return;
    Pending p;
    p.first_offset = offset;
    auto envelope = decode_envelope(payload);
    if (envelope) {
      p.recipients = static_cast<uint32_t>(envelope->recipients.size());
    } else {
      p.bad = true;
      out_.damaged.push_back(h.key);
      problem(offset, record_size(h.payload_length), envelope.error().message);
    }
    if (!pending_.emplace(h.key, p).second) {
      pending_[h.key].bad = true;
      out_.damaged.push_back(h.key);
      problem(offset, record_size(h.payload_length), "second ENVELOPE for one message");
    }
  }

  void on_chunk(const RecordHeader& h) {
    auto it = pending_.find(h.key);
    if (it == pending_.end()) {
      // Its ENVELOPE was lost to damage reported elsewhere, or it ended already.
      out_.damaged.push_back(h.key);
      return;
    }
    it->second.crc = crc32c_combine(it->second.crc, h.payload_crc, h.payload_length);
    it->second.length += h.payload_length;
    it->second.chunks++;
  }

  void on_end(const RecordHeader& h, uint64_t offset, std::string_view payload) {
    auto it = pending_.find(h.key);
    if (it == pending_.end()) {
      out_.damaged.push_back(h.key);
      return;
    }
    Pending p = it->second;
    pending_.erase(it);
    auto end = decode_end(payload);
    if (p.bad) return;
    if (!end || end->content_length != p.length || end->content_crc != p.crc ||
        end->chunk_count != p.chunks) {
      out_.damaged.push_back(h.key);
      problem(offset, record_size(h.payload_length), "content does not match its END record");
      return;
    }
    StoredMessage m;
    m.key = h.key;
    m.first_offset = p.first_offset;
    m.end_offset = offset;
    m.content_length = p.length;
    m.content_crc = p.crc;
    m.done = DoneBits(p.recipients);
    out_.messages.push_back(std::move(m));
  }

  void on_done(const RecordHeader& h, uint64_t offset, std::string_view payload) {
    auto index = decode_done(payload);
    if (!index) {
      problem(offset, record_size(h.payload_length), index.error().message);
      return;
    }
    out_.done_entries.push_back(DoneEntry{h.key, *index});
  }

  uint16_t shard_;
  uint32_t id_;
  LoadedSegment& out_;
  std::unordered_map<uint64_t, Pending> pending_;
};

std::optional<SegmentIndex> usable_index(std::string_view bytes, uint16_t shard, uint32_t id,
                                         uint64_t file_size, std::string* problem) {
  auto index = decode_index(bytes);
  if (!index) {
    *problem = index.error().message;
    return std::nullopt;
  }
  if (index->shard != shard || index->segment != id) {
    *problem = "index names another segment";
    return std::nullopt;
  }
  if (index->data_end != file_size) {
    *problem =
        fmt::format("index expects {} bytes of segment, file has {}", index->data_end, file_size);
    return std::nullopt;
  }
  return std::move(*index);
}

}  // namespace

Result<LoadedSegment> load_segment(volume::FileIo& io, int fd, uint16_t shard, uint32_t id,
                                   std::optional<std::string_view> index_bytes, bool force_scan) {
  LoadedSegment out;
  out.id = id;
  auto size = io.size(fd);
  if (!size) return size.error();
  out.file_size = *size;

  std::optional<uint64_t> index_nonce;
  if (index_bytes) {
    auto index = usable_index(*index_bytes, shard, id, *size, &out.index_problem);
    if (index) index_nonce = index->nonce;
    if (index && !force_scan) {
      out.from_index = true;
      out.sealed = true;
      out.nonce = index->nonce;
      out.valid_end = index->data_end;
      out.messages = std::move(index->messages);
      out.done_entries = std::move(index->done_entries);
      return out;
    }
  }

  MessageCollector collector(shard, id, out);
  auto scan = scan_segment(
      io, fd,
      [&](const RecordHeader& h, uint64_t offset, std::string_view payload) {
        collector.visit(h, offset, payload);
      },
      index_nonce);
  if (!scan) return scan.error();
  collector.finish();
  out.nonce = scan->nonce;
  out.sealed = scan->sealed;
  out.valid_end = scan->valid_end;
  out.tail_bytes = scan->tail_bytes;
  out.records = scan->records;
  out.corruption.insert(out.corruption.begin(), scan->corruption.begin(), scan->corruption.end());
  std::sort(out.corruption.begin(), out.corruption.end(),
            [](const ScanProblem& a, const ScanProblem& b) { return a.offset < b.offset; });
  return out;
}

Result<std::string> read_whole_file(volume::FileIo& io, const std::string& path) {
  auto fd = io.open(path, O_RDONLY, 0);
  if (!fd) return fd.error();
  std::string bytes;
  auto size = io.size(*fd);
  Result<void> status;
  if (!size) {
    status = size.error();
  } else {
    bytes.resize(*size);
    uint64_t done = 0;
    while (done < *size) {
      auto n = io.read(*fd, done, bytes.data() + done, *size - done);
      if (!n) {
        status = n.error();
        break;
      }
      if (*n == 0) break;
      done += *n;
    }
    bytes.resize(done);
  }
  (void)io.close(*fd);
  if (!status) return status.error();
  return bytes;
}

}  // namespace postcore::spool
