#include "queue/spool/segment_writer.h"

#include <fmt/core.h>

#include <cstring>

#include "common/log.h"

namespace postcore::spool {
namespace {
constexpr size_t kSpareBuffers = 2;
}

SegmentWriter::SegmentWriter(volume::FileIo& io, std::string path, int fd, uint64_t tail,
                             const SegmentInfo& header, size_t buffer_bytes,
                             FailureCallback on_failure)
    : io_(io),
      path_(std::move(path)),
      fd_(fd),
      seed_(header_seed(header.nonce)),
      buffer_bytes_(buffer_bytes),
      on_failure_(std::move(on_failure)),
      written_end_(tail),
      durable_end_(tail),
      marked_end_(tail),
      self_(std::make_shared<SegmentWriter*>(this)) {
  buffer_ = fresh_buffer();
  if (tail == 0) {
    // Nothing before it is durable, so the file's first write needs no MARK.
    append_record(*buffer_, header_seed(0), RecordType::segment, uint64_t{header.segment} << 32,
                  encode_segment_info(header));
  }
}

SegmentWriter::~SegmentWriter() = default;

std::shared_ptr<std::string> SegmentWriter::fresh_buffer() {
  if (!spare_buffers_.empty()) {
    auto buffer = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
    buffer->clear();
    return buffer;
  }
  auto buffer = std::make_shared<std::string>();
  buffer->reserve(buffer_bytes_ + (64 << 10));
  return buffer;
}

uint64_t SegmentWriter::append(RecordType type, uint64_t key, std::string_view payload,
                               uint32_t* payload_crc) {
  const uint64_t offset = tail();
  if (failure_) return offset;
  // The first record of every write says how far the file was durable at the time, so
  // that recovery can tell a torn tail from damage to acknowledged data.
  if (buffer_->empty() && durable_end_ > marked_end_) {
    append_record(*buffer_, seed_, RecordType::mark, 0, encode_u64(durable_end_));
    marked_end_ = durable_end_;
  }
  const uint64_t record_offset = tail();
  uint32_t crc = append_record(*buffer_, seed_, type, key, payload);
  if (payload_crc) *payload_crc = crc;
  if (buffer_->size() >= buffer_bytes_) submit_buffer();
  return record_offset;
}

void SegmentWriter::submit_buffer() {
  if (buffer_->empty() || failure_) return;
  std::shared_ptr<std::string> buffer = std::move(buffer_);
  buffer_ = fresh_buffer();
  const uint64_t offset = written_end_;
  const size_t len = buffer->size();
  written_end_ += len;
  writes_.emplace(offset, len);
  in_flight_bytes_ += len;
  std::weak_ptr<SegmentWriter*> weak = self_;
  io_.write(fd_, offset, buffer->data(), len, [weak, buffer, offset, len](int result) {
    auto self = weak.lock();
    if (!self) return;
    SegmentWriter* writer = *self;
    if (writer->spare_buffers_.size() < kSpareBuffers) writer->spare_buffers_.push_back(buffer);
    writer->on_write_done(offset, len, result);
  });
}

void SegmentWriter::on_write_done(uint64_t offset, size_t len, int result) {
  writes_.erase(offset);
  in_flight_bytes_ -= len;
  if (result < 0) {
    fail(offset, -result, "write failed");
  } else if (static_cast<size_t>(result) != len) {
    fail(offset + static_cast<size_t>(result), EIO,
         fmt::format("short write ({} of {} bytes)", result, len));
  } else {
    bytes_written_ += len;
  }
  truncate_after_failure();
  maybe_issue_sync();
}

void SegmentWriter::sync(SyncCallback done) {
  submit_buffer();
  sync_ = PendingSync{written_end_, std::move(done)};
  maybe_issue_sync();
}

void SegmentWriter::maybe_issue_sync() {
  if (!sync_ || sync_->issued) return;
  if (failure_ && first_lost_offset_ < sync_->target) {
    complete_sync(*failure_);
    return;
  }
  // A datasync covers only writes that completed before it was issued.
  if (!writes_.empty() && writes_.begin()->first < sync_->target) return;
  sync_->issued = true;
  std::weak_ptr<SegmentWriter*> weak = self_;
  io_.datasync(fd_, [weak](int result) {
    if (auto self = weak.lock()) (*self)->on_sync_done(result);
  });
}

void SegmentWriter::on_sync_done(int result) {
  if (result < 0) {
    // Linux may drop the dirty pages of a failed writeback, so nothing after the last
    // durable offset can be trusted any more.
    fail(durable_end_, -result, "fdatasync failed");
  } else if (!(failure_ && first_lost_offset_ < sync_->target)) {
    durable_end_ = std::max(durable_end_, sync_->target);
  }
  Result<void> outcome;
  if (failure_ && first_lost_offset_ < sync_->target) outcome = *failure_;
  sync_->issued = false;  // nothing of it is in flight any more
  truncate_after_failure();
  complete_sync(std::move(outcome));
}

void SegmentWriter::complete_sync(Result<void> result) {
  SyncCallback done = std::move(sync_->done);
  sync_.reset();
  done(std::move(result));
}

void SegmentWriter::fail(uint64_t offset, int code, std::string_view what) {
  first_lost_offset_ = std::min(first_lost_offset_, offset);
  if (failure_) return;
  failure_ = make_error(
      code, fmt::format("{}: {} at offset {}: {}", path_, what, offset, std::strerror(code)));
  log::error("spool", "{}", failure_->message);
  buffer_->clear();
  on_failure_(*failure_);
}

void SegmentWriter::truncate_after_failure() {
  if (!failure_ || truncated_ || io_in_flight()) return;
  truncated_ = true;
  // Best effort: if the disk refuses even this, start-up still drops the bytes as a
  // torn tail, because no MARK record ever claimed them.
  auto ok = io_.truncate(fd_, durable_end_);
  if (ok) ok = io_.sync(fd_);
  if (!ok) {
    log::error("spool", "{}: cannot cut back to {} bytes after a failure: {}", path_, durable_end_,
               ok.error().message);
  }
}

}  // namespace postcore::spool
