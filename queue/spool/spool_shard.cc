// The message-facing half of SpoolShard: begin/append/commit/abort, DONE marks, group
// commit, and reading messages back. Segment life (creation, sealing, indexes,
// reclaiming) is in shard_segments.cc; start-up is in shard_recovery.cc.
#include "queue/spool/spool_shard.h"

#include <cerrno>

#include "common/crc32c.h"
#include "common/log.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"

namespace postcore::spool {

SpoolShard::SpoolShard(volume::FileIo& io, ShardOptions options)
    : io_(io), options_(std::move(options)), self_(std::make_shared<SpoolShard*>(this)) {
  if (options_.chunk_bytes == 0) options_.chunk_bytes = 256 << 10;
  if (options_.chunk_bytes > kMaxRecordPayload) options_.chunk_bytes = kMaxRecordPayload;
}

SpoolShard::~SpoolShard() {
  self_.reset();
  for (auto& [id, segment] : segments_) {
    segment->writer.reset();
    if (segment->fd >= 0) (void)io_.close(segment->fd);
  }
}

SpoolShard::OpenMessage* SpoolShard::lookup(Handle handle) {
  if (handle.slot >= slots_.size()) return nullptr;
  OpenMessage& m = slots_[handle.slot];
  return m.in_use && m.generation == handle.generation ? &m : nullptr;
}

const SpoolShard::OpenMessage* SpoolShard::lookup(Handle handle) const {
  return const_cast<SpoolShard*>(this)->lookup(handle);
}

void SpoolShard::release(Handle handle) {
  OpenMessage& m = slots_[handle.slot];
  m = OpenMessage{};
  m.generation = handle.generation + 1;
  free_slots_.push_back(handle.slot);
}

void SpoolShard::later(DurableCallback callback, Result<void> result) {
  ready_.emplace_back(std::move(callback), std::move(result));
}

void SpoolShard::deliver_ready() {
  // A callback may commit, mark done or flush again; the outer loop picks up whatever
  // that adds, so callbacks never nest.
  if (delivering_) return;
  delivering_ = true;
  while (!ready_.empty()) {
    auto batch = std::move(ready_);
    ready_.clear();
    for (auto& [callback, result] : batch) {
      if (callback) callback(std::move(result));
    }
  }
  delivering_ = false;
}

Result<SpoolShard::Handle> SpoolShard::begin(const Envelope& envelope) {
  if (!opened_) return make_error(EINVAL, "spool shard is not open");
  auto encoded = encode_envelope(envelope);
  if (!encoded) return encoded.error();
  auto segment = writable_segment();
  if (!segment) return segment.error();
  Segment& s = **segment;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  OpenMessage& m = slots_[slot];
  m.in_use = true;
  m.segment = &s;
  m.key = message_key(s.id, s.next_number++);
  m.recipients = static_cast<uint32_t>(envelope.recipients.size());
  m.envelope = std::move(*encoded);
  s.open_messages++;
  return Handle{slot, m.generation};
}

std::string SpoolShard::queue_id(Handle handle) const {
  const OpenMessage* m = lookup(handle);
  return m ? format_queue_id(options_.shard, m->key) : std::string();
}

void SpoolShard::emit_envelope(OpenMessage& m) {
  if (m.envelope_emitted) return;
  m.first_offset = m.segment->writer->append(RecordType::envelope, m.key, m.envelope);
  m.envelope_emitted = true;
  std::string().swap(m.envelope);
}

void SpoolShard::emit_chunk(OpenMessage& m, std::string_view data) {
  emit_envelope(m);
  uint32_t crc = 0;
  m.segment->writer->append(RecordType::chunk, m.key, data, &crc);
  m.content_crc = crc32c_combine(m.content_crc, crc, data.size());
  m.chunks++;
}

void SpoolShard::append(Handle handle, std::string_view bytes) {
  OpenMessage* m = lookup(handle);
  if (!m) {
    log::error("spool", "append with a stale message handle");
    return;
  }
  if (m->failed || m->segment->state == SegmentState::failed) {
    m->failed = true;
    return;
  }
  m->content_length += bytes.size();
  const size_t chunk = options_.chunk_bytes;
  while (!bytes.empty()) {
    // Whole chunks straight from the caller's bytes: large messages are copied once.
    if (m->staged.empty() && bytes.size() >= chunk) {
      emit_chunk(*m, bytes.substr(0, chunk));
      bytes.remove_prefix(chunk);
      continue;
    }
    const size_t take = std::min(chunk - m->staged.size(), bytes.size());
    m->staged.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (m->staged.size() == chunk) {
      emit_chunk(*m, m->staged);
      m->staged.clear();
    }
  }
}

void SpoolShard::commit(Handle handle, DurableCallback on_durable) {
  OpenMessage* m = lookup(handle);
  if (!m) {
    log::error("spool", "commit with a stale message handle");
    later(std::move(on_durable), make_error(EINVAL, "stale message handle"));
    return;
  }
  Segment& s = *m->segment;
  s.open_messages--;
  if (m->failed || s.state == SegmentState::failed) {
    stats_.commits_failed++;
    later(std::move(on_durable), s.writer && s.writer->failure()
                                     ? *s.writer->failure()
                                     : make_error(EIO, "spool segment failed"));
    release(handle);
    maybe_seal(s);
    return;
  }
  if (!m->staged.empty()) emit_chunk(*m, m->staged);
  emit_envelope(*m);
  const uint64_t end_offset = s.writer->append(
      RecordType::end, m->key, encode_end(EndInfo{m->content_length, m->content_crc, m->chunks}));

  StoredMessage stored;
  stored.key = m->key;
  stored.first_offset = m->first_offset;
  stored.end_offset = end_offset;
  stored.content_length = m->content_length;
  stored.content_crc = m->content_crc;
  stored.done = DoneBits(m->recipients);
  s.pending_commits++;
  s.waiting.push_back([this, &s, stored = std::move(stored),
                       cb = std::move(on_durable)](Result<void> result) mutable {
    s.pending_commits--;
    if (result) {
      stats_.messages_committed++;
      publish(s, std::move(stored));
    } else {
      stats_.commits_failed++;
    }
    later(std::move(cb), std::move(result));
  });
  release(handle);
  maybe_seal(s);
}

void SpoolShard::abort(Handle handle) {
  OpenMessage* m = lookup(handle);
  if (!m) return;
  Segment& s = *m->segment;
  s.open_messages--;
  // Records already written need an ABORT so that verify can tell the message was
  // given up; start-up ignores a message without END either way.
  if (m->envelope_emitted && s.writer && !s.writer->failed()) {
    s.writer->append(RecordType::abort, m->key, {});
  }
  release(handle);
  maybe_seal(s);
}

void SpoolShard::publish(Segment& s, StoredMessage message) {
  const uint32_t number = key_number(message.key);
  if (s.entries.size() < number) s.entries.resize(number);
  Entry& entry = s.entries[number - 1];
  const bool done = message.done.all();
  entry.message = std::move(message);
  entry.state = done ? EntryState::done : EntryState::live;
  if (!done) {
    s.undone++;
    live_messages_++;
  }
}

void SpoolShard::apply_done(uint64_t key, uint32_t recipient) {
  auto it = segments_.find(key_segment(key));
  if (it == segments_.end()) return;
  Segment& s = *it->second;
  const uint32_t number = key_number(key);
  if (number == 0 || number > s.entries.size()) return;
  Entry& entry = s.entries[number - 1];
  if (entry.state != EntryState::live) return;
  entry.message.done.set(recipient);
  if (entry.message.done.all()) {
    entry.state = EntryState::done;
    s.undone--;
    live_messages_--;
  }
}

void SpoolShard::flush() {
  deliver_ready();
  release_idle_writers();
  if (syncs_in_flight_ > 0) return;
  bool started = false;
  for (auto& [id, segment] : segments_) {
    Segment& s = *segment;
    if (s.waiting.empty() || !s.writer || s.writer->failed()) continue;
    started = true;
    syncs_in_flight_++;
    stats_.datasyncs++;
    s.writer->sync([this, id = id, waiters = std::move(s.waiting)](Result<void> result) mutable {
      on_segment_synced(id, std::move(waiters), std::move(result));
    });
    s.waiting.clear();
  }
  if (started) stats_.groups++;
  deliver_ready();
}

void SpoolShard::on_segment_synced(uint32_t id,
                                   std::vector<std::function<void(Result<void>)>> waiters,
                                   Result<void> result) {
  syncs_in_flight_--;
  for (auto& waiter : waiters) waiter(result);
  auto it = segments_.find(id);
  if (it != segments_.end()) maybe_seal(*it->second);
  deliver_ready();
}

bool SpoolShard::idle() const {
  if (!ready_.empty() || syncs_in_flight_ > 0 || index_writes_in_flight_ > 0) return false;
  for (const auto& [id, s] : segments_) {
    if (!s->waiting.empty()) return false;
    if (s->writer && s->writer->io_in_flight()) return false;
  }
  return true;
}

uint64_t SpoolShard::unsynced_bytes() const {
  uint64_t total = 0;
  for (const auto& [id, s] : segments_) {
    if (s->writer) total += s->writer->unsynced_bytes();
  }
  return total;
}

uint64_t SpoolShard::held_bytes() const {
  uint64_t total = 0;
  for (const auto& [id, s] : segments_) {
    if (s->writer) total += s->writer->held_bytes();
  }
  for (const OpenMessage& m : slots_) total += m.staged.size();
  return total;
}

void SpoolShard::mark_done(std::string_view queue_id, uint32_t recipient_index,
                           DurableCallback on_durable) {
  const Segment* owner = nullptr;
  const Entry* entry = find_entry(queue_id, &owner);
  if (!entry || entry->state == EntryState::absent) {
    later(std::move(on_durable),
          make_error(ENOENT, "no message " + std::string(queue_id) + " in the spool"));
    return;
  }
  if (recipient_index >= entry->message.done.size()) {
    later(std::move(on_durable), make_error(EINVAL, "recipient index out of range"));
    return;
  }
  if (entry->state == EntryState::done || entry->message.done.test(recipient_index)) {
    later(std::move(on_durable), Result<void>());
    return;
  }
  auto segment = writable_segment();
  if (!segment) {
    later(std::move(on_durable), segment.error());
    return;
  }
  Segment& a = **segment;
  const uint64_t key = entry->message.key;
  a.writer->append(RecordType::done, key, encode_done(recipient_index));
  a.waiting.push_back(
      [this, &a, key, recipient_index, cb = std::move(on_durable)](Result<void> result) mutable {
        if (result) {
          stats_.done_marks++;
          a.done_entries.push_back(DoneEntry{key, recipient_index});
          apply_done(key, recipient_index);
        }
        later(std::move(cb), std::move(result));
      });
}

const SpoolShard::Entry* SpoolShard::find_entry(std::string_view queue_id,
                                                const Segment** segment) const {
  auto id = parse_queue_id(queue_id);
  if (!id || id->shard != options_.shard || id->number == 0) return nullptr;
  auto it = segments_.find(id->segment);
  if (it == segments_.end() || id->number > it->second->entries.size()) return nullptr;
  *segment = it->second.get();
  return &it->second->entries[id->number - 1];
}

void SpoolShard::for_each_message(const std::function<void(const MessageInfo&)>& visit) const {
  for (const auto& [id, s] : segments_) {
    for (const Entry& entry : s->entries) {
      if (entry.state != EntryState::live) continue;
      visit(MessageInfo{format_queue_id(options_.shard, entry.message.key),
                        entry.message.content_length, entry.message.done});
    }
  }
}

Result<MessageInfo> SpoolShard::find(std::string_view queue_id) const {
  const Segment* s = nullptr;
  const Entry* entry = find_entry(queue_id, &s);
  if (!entry || entry->state != EntryState::live) {
    return make_error(ENOENT, "no message " + std::string(queue_id) + " in the spool");
  }
  return MessageInfo{std::string(queue_id), entry->message.content_length, entry->message.done};
}

Result<Envelope> SpoolShard::read_envelope(std::string_view queue_id) const {
  const Segment* s = nullptr;
  const Entry* entry = find_entry(queue_id, &s);
  if (!entry || entry->state == EntryState::absent) {
    return make_error(ENOENT, "no message " + std::string(queue_id) + " in the spool");
  }
  auto envelope = spool::read_envelope(io_, s->fd, s->nonce, entry->message);
  if (!envelope) log::error("spool", "{}: {}", s->path, envelope.error().message);
  return envelope;
}

Result<void> SpoolShard::read_content(std::string_view queue_id, const ContentSink& sink) const {
  const Segment* s = nullptr;
  const Entry* entry = find_entry(queue_id, &s);
  if (!entry || entry->state == EntryState::absent) {
    return make_error(ENOENT, "no message " + std::string(queue_id) + " in the spool");
  }
  auto ok = spool::read_content(io_, s->fd, s->nonce, entry->message, sink);
  if (!ok && ok.error().code == EBADMSG) {
    log::error("spool", "{}: {}", s->path, ok.error().message);
  }
  return ok;
}

}  // namespace postcore::spool
