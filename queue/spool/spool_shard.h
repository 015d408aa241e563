// SpoolShard: one core's durable message queue.
//
// Messages are appended to segment files as typed, CRC-checked records (record.h):
// ENVELOPE, CHUNKs of content, and a mandatory END. A message is acknowledged (its
// commit callback reports success) only after all of its records were written and a
// datasync that covers them completed. Every message whose END arrived since the last
// flush shares that one datasync (group commit).
//
// Threading: everything runs on the owning reactor thread. Callbacks never run inside
// the call that registered them: they run from flush() or from FileIo completions.
//
// Reactor contract: call flush() once per loop iteration, before waiting for events, and
// route FileIo completions back to this thread. Destroy the shard only when idle(), or
// after the FileIo has dropped its pending completions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "queue/envelope.h"
#include "queue/spool/message_read.h"
#include "queue/spool/segment_writer.h"
#include "queue/spool/stored_message.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

struct ShardOptions {
  std::string dir;  // this shard's directory, normally DATA/spool/shard-NNN (queue_id.h)
  uint16_t shard = 0;
  // A segment takes no new messages once it is this large; messages still open in it
  // finish there, so a file can exceed this by what those messages still write.
  uint64_t segment_bytes = 64ull << 20;
  // Encoded records are written out (without a datasync) whenever this much is buffered.
  size_t write_buffer_bytes = 1 << 20;
  // Content held per message before it is written as a CHUNK record. A message smaller
  // than this reaches the file as one contiguous ENVELOPE, CHUNK, END run.
  size_t chunk_bytes = 256 << 10;
};

struct CorruptRecord {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string what;
};

struct RecoveryReport {
  uint64_t messages = 0;  // live messages: committed, recipients left
  uint64_t segments = 0;
  uint64_t indexed_segments = 0;              // loaded from their index without reading them
  uint64_t scanned_segments = 0;              // read and verified record by record
  uint64_t tail_bytes_dropped = 0;            // written after the last datasync: never acknowledged
  uint64_t incomplete_messages = 0;           // begun but never committed: never acknowledged
  std::vector<CorruptRecord> corruption;      // damage to data that had been durable
  std::vector<std::string> damaged_messages;  // queue ids that will not be served
};

// A live message as delivery sees it.
struct MessageInfo {
  std::string queue_id;
  uint64_t size = 0;  // content bytes
  DoneBits done;      // one bit per recipient, in envelope order
};

struct ShardStats {
  uint64_t groups = 0;  // group commits started
  uint64_t datasyncs = 0;
  uint64_t messages_committed = 0;
  uint64_t commits_failed = 0;
  uint64_t done_marks = 0;
  uint64_t segments_created = 0;
  uint64_t segments_reclaimed = 0;
};

class SpoolShard {
 public:
  // Identifies a message between begin() and commit()/abort().
  struct Handle {
    uint32_t slot = 0;
    uint32_t generation = 0;
  };
  using DurableCallback = std::function<void(Result<void>)>;

  SpoolShard(volume::FileIo& io, ShardOptions options);
  ~SpoolShard();
  SpoolShard(const SpoolShard&) = delete;
  SpoolShard& operator=(const SpoolShard&) = delete;

  // Creates the directory and recovers what is in it. Synchronous. Reads the index of
  // every sealed segment and verifies only unsealed ones record by record, so start-up
  // does not read the bodies of queued messages.
  Result<RecoveryReport> open();

  // Starts a message and assigns its queue id. Fails only when no segment can be
  // created (the caller answers 451).
  Result<Handle> begin(const Envelope& envelope);
  std::string queue_id(Handle handle) const;
  // Content, in pieces of any size. Memory held per message stays below chunk_bytes.
  void append(Handle handle, std::string_view bytes);
  // Writes the END record. `on_durable` reports success once the message is durable, or
  // an error (the caller answers 451 4.3.0) if it can never be. The handle is spent.
  void commit(Handle handle, DurableCallback on_durable);
  // The message will never be committed; start-up will not resurrect it.
  void abort(Handle handle);

  // Starts a group commit if anything waits for one and none is in flight.
  void flush();
  // For a clean shutdown: the current segment takes no new messages and is sealed and
  // indexed once its open messages finish, so the next start-up reads only indexes.
  void seal_active();
  // No callback pending, nothing waiting for a datasync, no I/O in flight. Open
  // (begun, uncommitted) messages do not count.
  bool idle() const;

  // Delivery side. Recipient `recipient_index` of the message needs no more delivery;
  // `on_durable` runs once that fact is durable (group-committed like commits).
  void mark_done(std::string_view queue_id, uint32_t recipient_index, DurableCallback on_durable);
  // Deletes sealed segments all of whose messages are done and returns how many.
  // Incremental: a segment holding DONE records that other segments still need first
  // has them copied forward, and goes on a later call once that copy is durable.
  Result<size_t> reclaim();

  size_t live_messages() const { return live_messages_; }
  // Live messages (committed, some recipient not done), oldest segment first.
  void for_each_message(const std::function<void(const MessageInfo&)>& visit) const;
  Result<MessageInfo> find(std::string_view queue_id) const;
  // Read back from disk, every CRC verified; corruption is an error, never data.
  Result<Envelope> read_envelope(std::string_view queue_id) const;
  Result<void> read_content(std::string_view queue_id, const ContentSink& sink) const;

  // Encoded but not yet durable, summed over segments: for reactor back-pressure.
  uint64_t unsynced_bytes() const;
  // Message bytes held in memory: staged content and write buffers, in flight or not.
  uint64_t held_bytes() const;
  const ShardStats& stats() const { return stats_; }
  const ShardOptions& options() const { return options_; }

 private:
  enum class SegmentState { active, draining, sealing, sealed, failed };
  enum class EntryState : uint8_t { absent, live, done };

  struct Entry {
    StoredMessage message;
    EntryState state = EntryState::absent;
  };

  struct Segment {
    uint32_t id = 0;
    std::string path;
    int fd = -1;
    uint64_t nonce = 0;
    SegmentState state = SegmentState::active;
    std::unique_ptr<SegmentWriter> writer;  // while records may still be appended
    uint32_t next_number = 1;
    uint32_t open_messages = 0;                              // begun, not yet committed or aborted
    uint32_t pending_commits = 0;                            // committed, not yet durable
    std::vector<Entry> entries;                              // by message number - 1
    uint64_t undone = 0;                                     // live entries with recipients left
    std::vector<DoneEntry> done_entries;                     // durable DONE records in this file
    std::vector<std::function<void(Result<void>)>> waiting;  // for this file's next sync
    bool index_in_progress = false;
    bool carry_in_flight = false;
    bool carried = false;  // its DONE records that others need were copied forward
  };

  struct OpenMessage {
    uint32_t generation = 0;
    bool in_use = false;
    bool failed = false;
    Segment* segment = nullptr;
    uint64_t key = 0;
    uint32_t recipients = 0;
    std::string envelope;  // encoded payload until its record is emitted
    bool envelope_emitted = false;
    uint64_t first_offset = 0;
    std::string staged;  // content not yet emitted as a CHUNK
    uint64_t content_length = 0;
    uint32_t content_crc = 0;
    uint32_t chunks = 0;
  };

  // spool_shard.cc
  OpenMessage* lookup(Handle handle);
  const OpenMessage* lookup(Handle handle) const;
  void release(Handle handle);
  void emit_envelope(OpenMessage& m);
  void emit_chunk(OpenMessage& m, std::string_view data);
  void publish(Segment& segment, StoredMessage message);
  void apply_done(uint64_t key, uint32_t recipient);
  const Entry* find_entry(std::string_view queue_id, const Segment** segment) const;
  void later(DurableCallback callback, Result<void> result);
  void deliver_ready();

  // shard_segments.cc
  Result<Segment*> writable_segment();
  Result<Segment*> create_segment();
  void on_segment_failure(uint32_t id, const Error& error);
  void on_segment_synced(uint32_t id, std::vector<std::function<void(Result<void>)>> waiters,
                         Result<void> result);
  void maybe_seal(Segment& segment);
  void write_index(Segment& segment, uint64_t data_end);
  void finish_index(uint32_t id, std::string tmp_path, int fd, Result<void> result);
  void release_idle_writers();
  std::vector<DoneEntry> done_entries_needed_elsewhere(const Segment& segment) const;
  Result<void> delete_segment(Segment& segment);

  // shard_recovery.cc
  Result<void> recover_segment(uint32_t id, bool has_index, RecoveryReport& report);

  volume::FileIo& io_;
  ShardOptions options_;
  bool opened_ = false;
  std::map<uint32_t, std::unique_ptr<Segment>> segments_;
  Segment* active_ = nullptr;
  uint32_t next_segment_id_ = 1;
  std::vector<OpenMessage> slots_;
  std::vector<uint32_t> free_slots_;
  size_t syncs_in_flight_ = 0;  // of the current group commit
  size_t index_writes_in_flight_ = 0;
  std::vector<std::pair<DurableCallback, Result<void>>> ready_;
  bool delivering_ = false;
  uint64_t live_messages_ = 0;
  ShardStats stats_;
  std::shared_ptr<SpoolShard*> self_;  // weak in FileIo callbacks that bypass a writer
};

}  // namespace postcore::spool
