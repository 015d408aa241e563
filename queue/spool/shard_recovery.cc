// Start-up: rebuild the shard's in-memory table from its directory.
//
// Sealed segments with a good index are not read at all. Unsealed segments (the one
// that was active at the crash, and any still draining) are read and verified record by
// record; their torn tail is cut off, and they are sealed, since new messages always go
// to a fresh segment. DONE records from every segment are applied last.
#include <fcntl.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "queue/spool/segment_loader.h"
#include "queue/spool/spool_shard.h"

namespace postcore::spool {
namespace {

// mkdir -p in which each directory's name is made durable in its parent: the shard's
// segments are acknowledged on the strength of names inside it, and a directory created
// at the first start (or after a crash that lost it) is covered by no earlier sync.
Result<void> make_directories(volume::FileIo& io, const std::string& dir) {
  std::string path;
  size_t pos = 0;
  if (!dir.empty() && dir[0] == '/') {
    path = "/";
    pos = 1;
  }
  while (pos <= dir.size()) {
    size_t slash = dir.find('/', pos);
    if (slash == std::string::npos) slash = dir.size();
    std::string_view part(dir.data() + pos, slash - pos);
    if (!part.empty()) {
      const std::string parent = path.empty() ? "." : path;
      if (!path.empty() && path.back() != '/') path += '/';
      path += part;
      if (auto ok = io.mkdir(path); !ok) return ok;
      if (auto ok = io.sync_dir(parent); !ok) return ok;
    }
    pos = slash + 1;
  }
  return {};
}

}  // namespace

Result<RecoveryReport> SpoolShard::open() {
  if (opened_) return make_error(EINVAL, "spool shard already open");
  if (auto ok = make_directories(io_, options_.dir); !ok) return ok.error();
  auto names = io_.list_dir(options_.dir);
  if (!names) return names.error();

  std::set<uint32_t> logs;
  std::set<uint32_t> indexes;
  for (const std::string& name : *names) {
    if (auto id = parse_segment_file_name(name)) {
      logs.insert(*id);
    } else if (auto id = parse_index_file_name(name)) {
      indexes.insert(*id);
    } else if (name.ends_with(kTempSuffix)) {
      (void)io_.unlink(options_.dir + "/" + name);  // an index that was never completed
    }
  }
  if (!logs.empty()) next_segment_id_ = std::max(next_segment_id_, *logs.rbegin() + 1);
  if (!indexes.empty()) next_segment_id_ = std::max(next_segment_id_, *indexes.rbegin() + 1);

  RecoveryReport report;
  for (uint32_t id : logs) {
    if (auto ok = recover_segment(id, indexes.count(id) > 0, report); !ok) return ok.error();
  }
  for (uint32_t id : indexes) {
    if (!logs.count(id)) {
      log::warning("spool", "{}/{}: index without its segment; ignored", options_.dir,
                   index_file_name(id));
    }
  }
  for (const auto& [id, s] : segments_) {
    for (const DoneEntry& d : s->done_entries) apply_done(d.key, d.recipient);
  }
  report.messages = live_messages_;
  opened_ = true;
  log::info("spool",
            "{}: {} messages in {} segments ({} from index, {} scanned); {} tail bytes dropped, "
            "{} incomplete, {} corrupt regions",
            options_.dir, report.messages, report.segments, report.indexed_segments,
            report.scanned_segments, report.tail_bytes_dropped, report.incomplete_messages,
            report.corruption.size());
  return report;
}

Result<void> SpoolShard::recover_segment(uint32_t id, bool has_index, RecoveryReport& report) {
  const std::string path = options_.dir + "/" + segment_file_name(id);
  auto fd = io_.open(path, O_RDWR, 0);
  if (!fd) return fd.error();

  std::optional<std::string> index_bytes;
  if (has_index) {
    auto bytes = read_whole_file(
        io_, options_.dir + "/" + index_file_name(id), [](const void* data, size_t len) {
          return decode_index(std::string_view(static_cast<const char*>(data), len)).ok();
        });
    if (bytes) {
      index_bytes = std::move(*bytes);
    } else {
      log::warning("spool", "{}: cannot read index: {}", path, bytes.error().message);
    }
  }
  auto loaded =
      load_segment(io_, *fd, options_.shard, id,
                   index_bytes ? std::optional<std::string_view>(*index_bytes) : std::nullopt);
  if (!loaded) {
    (void)io_.close(*fd);
    return loaded.error();
  }
  if (!loaded->index_problem.empty()) {
    log::warning("spool", "{}: index not used ({}); segment scanned", path, loaded->index_problem);
  }

  if (!loaded->from_index && loaded->valid_end == 0 && loaded->corruption.empty()) {
    // Created, but its first write never became durable: nothing in it was acknowledged.
    (void)io_.close(*fd);
    if (auto ok = io_.unlink(path); !ok) return ok;
    return io_.sync_dir(options_.dir);
  }

  report.segments++;
  if (loaded->from_index) {
    report.indexed_segments++;
  } else {
    report.scanned_segments++;
  }
  report.tail_bytes_dropped += loaded->tail_bytes;
  report.incomplete_messages += loaded->incomplete;
  if (loaded->tail_bytes > 0) {
    log::warning("spool", "{}: dropped {} bytes of torn tail at offset {} (never acknowledged)",
                 path, loaded->tail_bytes, loaded->valid_end);
  }
  for (const ScanProblem& p : loaded->corruption) {
    log::error("spool", "{}:{}: CORRUPT ({} bytes): {}", path, p.offset, p.length, p.what);
    report.corruption.push_back(CorruptRecord{path, p.offset, p.length, p.what});
  }
  for (uint64_t key : loaded->damaged) {
    std::string qid = format_queue_id(options_.shard, key);
    log::error("spool", "{}: message {} is damaged and will not be served", path, qid);
    report.damaged_messages.push_back(std::move(qid));
  }

  auto segment = std::make_unique<Segment>();
  Segment& s = *segment;
  s.id = id;
  s.path = path;
  s.fd = *fd;
  s.nonce = loaded->nonce;
  for (StoredMessage& m : loaded->messages) {
    s.next_number = std::max(s.next_number, key_number(m.key) + 1);
    publish(s, std::move(m));
  }
  s.done_entries = std::move(loaded->done_entries);
  segments_.emplace(id, std::move(segment));

  if (loaded->sealed) {
    s.state = SegmentState::sealed;
    if (!loaded->from_index) write_index(s, loaded->file_size);
    return {};
  }
  Result<void> cut;
  if (loaded->tail_bytes > 0) {
    cut = io_.truncate(s.fd, loaded->valid_end);
    if (cut) cut = io_.sync(s.fd);
  }
  if (!cut) {
    // Left unsealed: the next start-up drops the same tail again.
    log::error("spool", "{}: cannot cut torn tail: {}", path, cut.error().message);
    s.state = SegmentState::failed;
    return {};
  }
  s.state = SegmentState::draining;
  s.writer = std::make_unique<SegmentWriter>(
      io_, path, s.fd, loaded->valid_end, SegmentInfo{options_.shard, id, s.nonce},
      options_.write_buffer_bytes,
      [this, id](const Error& error) { on_segment_failure(id, error); });
  maybe_seal(s);
  return {};
}

}  // namespace postcore::spool
