// SegmentWriter: appends records to the tail of one segment file and makes them
// durable, through FileIo's asynchronous write and datasync.
//
// Records are encoded into a buffer. A full buffer is written at once without a
// datasync, which keeps memory bounded while large messages stream in; sync() writes
// whatever is buffered and then issues one datasync that covers every byte appended
// before it. A buffer stays alive until its write completes, even if the writer is
// destroyed first.
//
// Failure is sticky: after any failed or short write, or a failed datasync, the writer
// accepts no more data, reports the failure once to its owner, fails the sync that
// needed the lost bytes, and - once nothing is in flight - truncates the file back to
// the last durable offset, so that bytes it never acknowledged cannot reappear.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "queue/spool/record.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

class SegmentWriter {
 public:
  using SyncCallback = std::function<void(Result<void>)>;
  using FailureCallback = std::function<void(const Error&)>;

  // Appends to `fd` (not owned) from offset `tail`, all of which is durable. A new file
  // (tail 0) gets its SEGMENT record from `header`.
  SegmentWriter(volume::FileIo& io, std::string path, int fd, uint64_t tail,
                const SegmentInfo& header, size_t buffer_bytes, FailureCallback on_failure);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Encodes a record at the tail and returns its file offset; `payload_crc`, if given,
  // receives the payload's CRC. After a failure the record is dropped.
  uint64_t append(RecordType type, uint64_t key, std::string_view payload,
                  uint32_t* payload_crc = nullptr);

  // Writes what is buffered; `done` runs once every byte appended so far is durable, or
  // with the error that prevented it. At most one sync may be outstanding.
  void sync(SyncCallback done);

  uint64_t tail() const { return written_end_ + buffer_->size(); }
  uint64_t durable_end() const { return durable_end_; }
  bool failed() const { return failure_.has_value(); }
  const std::optional<Error>& failure() const { return failure_; }
  bool sync_outstanding() const { return sync_.has_value(); }
  // Writes or a datasync are with the FileIo; their callbacks are still to come.
  bool io_in_flight() const { return !writes_.empty() || (sync_ && sync_->issued); }
  // Bytes encoded but not yet durable: what a reactor may want to apply back-pressure on.
  uint64_t unsynced_bytes() const { return tail() - durable_end_; }
  uint64_t bytes_written() const { return bytes_written_; }
  // Memory the writer holds: the open buffer and buffers whose write is in flight.
  uint64_t held_bytes() const { return buffer_->size() + in_flight_bytes_; }

 private:
  struct PendingSync {
    uint64_t target;
    SyncCallback done;
    bool issued = false;
  };

  void submit_buffer();
  void on_write_done(uint64_t offset, size_t len, int result);
  void maybe_issue_sync();
  void on_sync_done(int result);
  void complete_sync(Result<void> result);
  void fail(uint64_t offset, int code, std::string_view what);
  void truncate_after_failure();
  std::shared_ptr<std::string> fresh_buffer();

  volume::FileIo& io_;
  std::string path_;
  int fd_;
  uint32_t seed_;
  size_t buffer_bytes_;
  FailureCallback on_failure_;

  std::shared_ptr<std::string> buffer_;  // records starting at written_end_
  std::vector<std::shared_ptr<std::string>> spare_buffers_;
  uint64_t written_end_;
  uint64_t durable_end_;
  uint64_t marked_end_;                // the durable_end_ the last MARK record stated
  std::map<uint64_t, size_t> writes_;  // in flight: offset -> length
  std::optional<PendingSync> sync_;
  std::optional<Error> failure_;
  uint64_t first_lost_offset_ = UINT64_MAX;  // lowest offset whose bytes may be missing
  bool truncated_ = false;
  uint64_t bytes_written_ = 0;
  uint64_t in_flight_bytes_ = 0;
  // Completions hold a weak reference; they do nothing once the writer is gone.
  std::shared_ptr<SegmentWriter*> self_;
};

}  // namespace postcore::spool
