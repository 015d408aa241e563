// Small files the volume layer keeps beside the data (volume.meta, volume.status, the
// resilver and membership records), and the pace at which its background jobs do I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::volume {

// The whole of a small file (at most 64 KiB are read).
Result<std::string> read_small_file(const std::string& path);

// The next line of a small file's `text` (without its '\n'), taken off the front.
std::string_view next_line(std::string_view& text);

// tmp file, fsync, rename, fsync of the directory: a reader finds the old text or the new
// one, never part of either, also after a crash.
Result<void> write_file_durably(const std::string& path, const std::string& text);

// fsync of a directory: the names created, renamed or removed in it become durable.
Result<void> sync_directory(const std::string& dir);

// mkdir -p whose result survives a power cut: each directory it creates has its name made
// durable (an fsync of its parent) before the next is made inside it. Directories that
// exist already are left as they are.
Result<void> create_directories_durably(const std::string& path);

// Keeps a background job's I/O under a rate: spent() sleeps until the bytes done so far are
// due. A rate of 0 means no limit.
class Pacer {
 public:
  explicit Pacer(uint64_t bytes_per_second) : rate_(bytes_per_second) {}
  void spent(uint64_t bytes);

 private:
  uint64_t rate_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace postcore::volume
