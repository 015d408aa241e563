#include "queue/volume/status_writer.h"

#include "common/log.h"
#include "queue/volume/small_file.h"
#include "queue/volume/volume_status.h"

namespace postcore::volume {

StatusWriter::StatusWriter(std::string status_path)
    : status_path_(std::move(status_path)),
      metrics_path_(status_path_.empty() ? std::string() : metrics_path_for(status_path_)) {
  if (!status_path_.empty()) thread_ = std::thread([this] { run(); });
}

StatusWriter::~StatusWriter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void StatusWriter::publish(std::string status, std::string metrics) {
  if (status_path_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    pending_.emplace(std::move(status), std::move(metrics));
    published_++;
  }
  wake_.notify_one();
}

void StatusWriter::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t wanted = published_;
  written_.wait(lock, [&] { return done_ >= wanted || !thread_.joinable(); });
}

void StatusWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping, nothing left to write
    auto [status, metrics] = std::move(*pending_);
    pending_.reset();
    const uint64_t taken = published_;
    lock.unlock();
    write(status, metrics);
    lock.lock();
    done_ = taken;
    written_.notify_all();
  }
}

void StatusWriter::write_now(const std::string& status, const std::string& metrics) {
  if (status_path_.empty()) return;
  flush();
  write(status, metrics);
}

void StatusWriter::write(const std::string& status, const std::string& metrics) {
  if (auto r = write_file_durably(status_path_, status); !r)
    log::warning("volume", "cannot write {}: {}", status_path_, r.error().message);
  if (auto r = write_file_durably(metrics_path_, metrics); !r)
    log::warning("volume", "cannot write {}: {}", metrics_path_, r.error().message);
}

}  // namespace postcore::volume
