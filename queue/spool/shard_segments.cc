// The life of a segment file: created when the active one is full (or failed), drained
// of its open messages, sealed with a SEAL record, indexed, and finally deleted once all
// of its messages are done.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/random.h>

#include <cerrno>
#include <chrono>

#include "common/log.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "queue/spool/spool_shard.h"

namespace postcore::spool {
namespace {

uint64_t random_nonce() {
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) {
    // Only resistance to crafted record images depends on the nonce being unguessable;
    // integrity does not, so a clock-derived value is an acceptable fallback.
    nonce = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
            0x9E3779B97F4A7C15ull;
  }
  return nonce;
}

}  // namespace

void SpoolShard::seal_active() {
  if (!active_) return;
  active_->state = SegmentState::draining;
  Segment* retired = active_;
  active_ = nullptr;
  maybe_seal(*retired);
}

Result<SpoolShard::Segment*> SpoolShard::writable_segment() {
  if (active_ && active_->writer->tail() >= options_.segment_bytes) seal_active();
  if (!active_) {
    auto created = create_segment();
    if (!created) return created.error();
    active_ = *created;
  }
  return active_;
}

Result<SpoolShard::Segment*> SpoolShard::create_segment() {
  const uint32_t id = next_segment_id_++;
  std::string path = options_.dir + "/" + segment_file_name(id);
  auto fd = io_.open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
  if (!fd) {
    log::error("spool", "cannot create segment: {}", fd.error().message);
    return fd.error();
  }
  // The new name must survive a crash before anything in the file is acknowledged.
  if (auto ok = io_.sync_dir(options_.dir); !ok) {
    log::error("spool", "cannot create segment: {}", ok.error().message);
    (void)io_.close(*fd);
    (void)io_.unlink(path);
    return ok.error();
  }
  auto segment = std::make_unique<Segment>();
  segment->id = id;
  segment->path = path;
  segment->fd = *fd;
  segment->nonce = random_nonce();
  segment->state = SegmentState::active;
  segment->writer = std::make_unique<SegmentWriter>(
      io_, path, *fd, 0, SegmentInfo{options_.shard, id, segment->nonce},
      options_.write_buffer_bytes,
      [this, id](const Error& error) { on_segment_failure(id, error); });
  Segment* raw = segment.get();
  segments_.emplace(id, std::move(segment));
  stats_.segments_created++;
  return raw;
}

void SpoolShard::on_segment_failure(uint32_t id, const Error& error) {
  Segment& s = *segments_.at(id);
  s.state = SegmentState::failed;
  if (active_ == &s) active_ = nullptr;
  // Records waiting for the next sync can never become durable here. Messages still
  // open in this file lost bytes they already appended: they fail at commit.
  auto waiting = std::move(s.waiting);
  s.waiting.clear();
  for (auto& waiter : waiting) waiter(error);
  for (OpenMessage& m : slots_) {
    if (m.in_use && m.segment == &s) m.failed = true;
  }
}

// SEAL says the whole file before it is durable, so it is appended only once that is true:
// a SEAL that shared a write with records that were then torn would make the file look
// corrupt rather than cut short. Commits still waiting for their datasync call here again
// when it completes (on_segment_synced); bytes nobody waits for (an ABORT) get a sync of
// their own first.
void SpoolShard::maybe_seal(Segment& s) {
  if (s.state != SegmentState::draining || s.open_messages > 0) return;
  if (s.pending_commits > 0 || !s.waiting.empty() || s.writer->sync_outstanding()) return;
  if (s.writer->unsynced_bytes() > 0) {
    s.waiting.push_back([](Result<void>) {});
    return;
  }
  s.state = SegmentState::sealing;
  uint64_t committed = 0;
  for (const Entry& e : s.entries) committed += e.state != EntryState::absent;
  s.writer->append(RecordType::seal, 0, encode_u64(committed));
  s.waiting.push_back([this, &s](Result<void> result) {
    if (!result) return;  // the writer's failure already marked the segment failed
    s.state = SegmentState::sealed;
    write_index(s, s.writer->durable_end());
  });
}

void SpoolShard::write_index(Segment& s, uint64_t data_end) {
  SegmentIndex index;
  index.shard = options_.shard;
  index.segment = s.id;
  index.nonce = s.nonce;
  index.data_end = data_end;
  for (const Entry& e : s.entries) {
    if (e.state == EntryState::live) index.messages.push_back(e.message);
  }
  index.done_entries = s.done_entries;
  auto bytes = std::make_shared<std::string>(encode_index(index));

  // Written under a temporary name and renamed once durable, so that a crash leaves
  // either no index or a complete one.
  std::string tmp = options_.dir + "/" + index_file_name(s.id) + std::string(kTempSuffix);
  auto fd = io_.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (!fd) {
    log::warning("spool", "no index for segment {:08X}: {}", s.id, fd.error().message);
    return;
  }
  s.index_in_progress = true;
  index_writes_in_flight_++;
  std::weak_ptr<SpoolShard*> weak = self_;
  const uint32_t id = s.id;
  const int index_fd = *fd;
  io_.write(index_fd, 0, bytes->data(), bytes->size(),
            [this, weak, bytes, id, tmp, index_fd](int written) {
              if (!weak.lock()) return;
              if (written < 0 || static_cast<size_t>(written) != bytes->size()) {
                finish_index(id, tmp, index_fd,
                             make_error(written < 0 ? -written : EIO, "index write failed"));
                return;
              }
              io_.datasync(index_fd, [this, weak, id, tmp, index_fd](int synced) {
                if (!weak.lock()) return;
                Result<void> result;
                if (synced < 0) result = make_error(-synced, "index datasync failed");
                finish_index(id, tmp, index_fd, std::move(result));
              });
            });
}

void SpoolShard::finish_index(uint32_t id, std::string tmp_path, int fd, Result<void> result) {
  index_writes_in_flight_--;
  (void)io_.close(fd);
  if (result) {
    std::string final_path = options_.dir + "/" + index_file_name(id);
    result = io_.rename(tmp_path, final_path);
    if (result) result = io_.sync_dir(options_.dir);
  }
  if (!result) {
    // Harmless: start-up scans a sealed segment that has no index.
    log::warning("spool", "no index for segment {:08X}: {}", id, result.error().message);
    (void)io_.unlink(tmp_path);
  }
  auto it = segments_.find(id);
  if (it != segments_.end()) it->second->index_in_progress = false;
}

void SpoolShard::release_idle_writers() {
  for (auto& [id, s] : segments_) {
    if (s->state == SegmentState::sealed && s->writer && !s->writer->io_in_flight() &&
        !s->writer->sync_outstanding()) {
      s->writer.reset();
    }
  }
}

std::vector<DoneEntry> SpoolShard::done_entries_needed_elsewhere(const Segment& s) const {
  std::vector<DoneEntry> needed;
  for (const DoneEntry& d : s.done_entries) {
    const uint32_t target = key_segment(d.key);
    if (target == s.id) continue;
    auto it = segments_.find(target);
    if (it == segments_.end()) continue;
    const uint32_t number = key_number(d.key);
    if (number == 0 || number > it->second->entries.size()) continue;
    if (it->second->entries[number - 1].state == EntryState::absent) continue;
    needed.push_back(d);
  }
  return needed;
}

Result<void> SpoolShard::delete_segment(Segment& s) {
  // The index goes first: a crash in between leaves a segment that start-up rescans.
  auto idx = io_.unlink(options_.dir + "/" + index_file_name(s.id));
  if (!idx && idx.error().code != ENOENT) return idx.error();
  if (s.fd >= 0) (void)io_.close(s.fd);
  s.fd = -1;
  if (auto ok = io_.unlink(s.path); !ok && ok.error().code != ENOENT) return ok.error();
  // Older segments go first and each deletion is made durable before the next, so a
  // crash never keeps a segment while losing the newer one holding its DONE records.
  return io_.sync_dir(options_.dir);
}

Result<size_t> SpoolShard::reclaim() {
  if (!opened_) return make_error(EINVAL, "spool shard is not open");
  size_t deleted = 0;
  for (auto it = segments_.begin(); it != segments_.end();) {
    Segment& s = *it->second;
    const bool settled = s.state == SegmentState::sealed || s.state == SegmentState::failed;
    const bool busy = s.open_messages > 0 || s.pending_commits > 0 || !s.waiting.empty() ||
                      s.index_in_progress || s.carry_in_flight ||
                      (s.writer && (s.writer->io_in_flight() || s.writer->sync_outstanding()));
    if (&s == active_ || !settled || busy || s.undone > 0) {
      ++it;
      continue;
    }
    if (!s.carried) {
      std::vector<DoneEntry> needed = done_entries_needed_elsewhere(s);
      if (!needed.empty()) {
        auto target = writable_segment();
        if (!target) return target.error();
        Segment& a = **target;
        for (const DoneEntry& d : needed) {
          a.writer->append(RecordType::done, d.key, encode_done(d.recipient));
        }
        s.carry_in_flight = true;
        a.waiting.push_back([&s, &a, needed = std::move(needed)](Result<void> result) {
          s.carry_in_flight = false;
          if (!result) return;  // tried again on a later reclaim()
          a.done_entries.insert(a.done_entries.end(), needed.begin(), needed.end());
          s.carried = true;
        });
        ++it;
        continue;
      }
    }
    if (auto ok = delete_segment(s); !ok) {
      log::error("spool", "cannot reclaim segment {:08X}: {}", s.id, ok.error().message);
      return ok.error();
    }
    it = segments_.erase(it);
    deleted++;
    stats_.segments_reclaimed++;
  }
  return deleted;
}

}  // namespace postcore::spool
