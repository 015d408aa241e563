#include "queue/spool/segment_loader.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/crc32c.h"
#include "common/log.h"
#include "queue/spool/copy_view.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "queue/spool/segment_scan.h"

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

// Whether copy `s` kept whole records over [begin, end): no damage there, and its kept
// records reach `end`.
bool holds_records(const ScanResult& s, uint64_t begin, uint64_t end) {
  if (s.valid_end < end) return false;
  for (const ScanProblem& p : s.corruption)
    if (p.offset < end && begin < p.offset + p.length) return false;
  return true;
}

struct Reconciled {
  size_t copy = 0;            // the copy to read
  uint64_t largest_size = 0;  // of every copy's file: the tail to cut ends here
};

// On mirrored storage the copies of a segment that was being written may end differently
// after a crash (each member's unsynced tail is its own; a disk may lose its last write),
// and one may be damaged. Every copy is scanned to its own size, and the copy whose
// verified records reach furthest is kept: a message written but never acknowledged
// coming back is a legal duplicate, an acknowledged one lost is not, and the last
// acknowledged group is covered by no MARK, so "reaches the last MARK" proves nothing.
// Before the others are made equal to it, the kept copy takes from the others what it
// lacks: a region damaged in it that another copy holds whole, and records past its end
// that another copy holds (bit rot in one copy's last group, a lost write in the other's).
// Nothing any copy holds valid records for is overwritten or left to be cut. With one
// copy, returns 0 (the caller's usual read).
Reconciled reconcile_copies(volume::FileIo& io, int fd, std::optional<uint64_t> nonce,
                            const std::string& what) {
  std::set<std::pair<size_t, uint64_t>> merged;  // (copy, offset) runs already taken
  for (size_t attempt = 0; attempt < 32; attempt++) {
    const size_t n = io.copies(fd);
    if (n <= 1) return {};
    std::vector<ScanResult> scans;
    for (size_t c = 0; c < n; c++) {
      CopyView view(io, c);
      auto scan = scan_segment(
          view, fd, [](const RecordHeader&, uint64_t, std::string_view) {}, nonce);
      if (!scan) break;  // a member failed while read: start again with those left
      scans.push_back(std::move(*scan));
    }
    if (scans.size() != n || io.copies(fd) != n) continue;
    size_t best = 0;
    uint64_t largest = 0;
    for (size_t c = 0; c < n; c++) {
      const ScanResult& s = scans[c];
      const ScanResult& b = scans[best];
      largest = std::max(largest, s.file_size);
      if (s.valid_end > b.valid_end ||
          (s.valid_end == b.valid_end && s.corruption.size() < b.corruption.size()))
        best = c;
    }
    const ScanResult& kept = scans[best];

    // 1. Damage inside the kept copy's records, from a copy that holds that region whole.
    bool changed = false;
    for (const ScanProblem& p : kept.corruption) {
      for (size_t c = 0; c < n; c++) {
        if (c == best || !holds_records(scans[c], p.offset, p.offset + p.length)) continue;
        log::error("spool", "{}: copy {} is damaged at byte {} ({}); mending it from copy {}", what,
                   best, p.offset, p.what, c);
        changed = copy_between(io, fd, c, best, p.offset, p.offset + p.length).ok() || changed;
        break;
      }
    }
    if (changed) continue;

    // 2. Records past its end that another copy holds.
    for (size_t c = 0; c < n && kept.valid_end > 0 && !kept.sealed; c++) {
      if (c == best || scans[c].file_size <= kept.valid_end) continue;
      if (!merged.insert({c, kept.valid_end}).second) continue;
      CopyView donor(io, c);
      auto run_end = verified_run(donor, fd, kept.valid_end, kept.nonce);
      if (!run_end || *run_end == kept.valid_end) continue;
      log::error("spool",
                 "{}: copy {} lacks records at bytes {}..{} that copy {} holds; taking them", what,
                 best, kept.valid_end, *run_end, c);
      changed = copy_between(io, fd, c, best, kept.valid_end, *run_end).ok();
      break;
    }
    if (changed) continue;

    // 3. The others made equal to it, up to the end of its records. (Damage that is left in
    // it is in every copy: step 1 found no copy holding that region whole.)
    for (size_t c = 0; c < n; c++) {
      const ScanResult& s = scans[c];
      if (c == best || (s.valid_end == kept.valid_end && s.corruption.empty())) continue;
      log::error("spool", "{}: copy {} {}; mending it from copy {}", what, c,
                 s.corruption.empty() ? fmt::format("ends its records at byte {}, copy {} at {}",
                                                    s.valid_end, best, kept.valid_end)
                                      : "is damaged (" + s.corruption[0].what + ")",
                 best);
      // Around regions no copy holds whole: there the other copy's bytes stay its own.
      uint64_t from = 0;
      for (const ScanProblem& p : kept.corruption) {
        (void)copy_between(io, fd, best, c, from, p.offset);
        from = p.offset + p.length;
      }
      (void)copy_between(io, fd, best, c, from, kept.valid_end);
      changed = true;
    }
    if (!changed || io.copies(fd) == n) return {best, largest};
  }
  return {};
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
  const Reconciled reconciled = reconcile_copies(io, fd, index_nonce, segment_file_name(id));
  CopyView chosen(io, reconciled.copy);
  auto scan = scan_segment(
      io.copies(fd) > 1 ? static_cast<volume::FileIo&>(chosen) : io, fd,
      [&](const RecordHeader& h, uint64_t offset, std::string_view payload) {
        collector.visit(h, offset, payload);
      },
      index_nonce);
  if (!scan) return scan.error();
  collector.finish();
  out.nonce = scan->nonce;
  out.sealed = scan->sealed;
  out.file_size = scan->file_size;
  out.valid_end = scan->valid_end;
  // Every copy is cut to the kept records: a longer copy's tail holds none of them.
  out.tail_bytes = scan->sealed
                       ? scan->tail_bytes
                       : std::max(scan->file_size, reconciled.largest_size) - scan->valid_end;
  out.records = scan->records;
  out.corruption.insert(out.corruption.begin(), scan->corruption.begin(), scan->corruption.end());
  std::sort(out.corruption.begin(), out.corruption.end(),
            [](const ScanProblem& a, const ScanProblem& b) { return a.offset < b.offset; });
  return out;
}

Result<std::string> read_whole_file(volume::FileIo& io, const std::string& path,
                                    const volume::FileIo::Check& good) {
  auto fd = io.open(path, O_RDONLY, 0);
  if (!fd) return fd.error();
  std::string bytes;
  auto size = io.size(*fd);
  Result<void> status;
  if (!size) {
    status = size.error();
  } else {
    bytes.resize(*size);
    // One read: with a check, a copy that fails it is read past and mended.
    auto first = io.read_checked(*fd, 0, bytes.data(), *size, good);
    uint64_t done = first ? *first : 0;
    if (!first) status = first.error();
    while (first && done < *size) {  // a short read is continued
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
