// StatusWriter: keeps a volume set's status file and the metrics beside it current from a
// thread of its own, so that a change of state (a member failing on a reactor, a repaired
// read, a resilver's progress) never waits on the file system under the set's lock.
// publish() hands over the newest texts and returns; the thread writes the newest pair it
// finds with write-then-rename (fsynced), skipping any it never reached. write_now() writes
// on the caller's thread, after whatever was published before.
//
// Threads: publish() and flush() from any thread; the writing on its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace postcore::volume {

class StatusWriter {
 public:
  // An empty `status_path` writes nothing.
  explicit StatusWriter(std::string status_path);
  ~StatusWriter();  // writes what is pending, then stops
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;

  void publish(std::string status, std::string metrics);
  // Writes them on the caller's thread, now (after anything published before).
  void write_now(const std::string& status, const std::string& metrics);

 private:
  void flush();  // waits until what was published last is written
  void run();
  void write(const std::string& status, const std::string& metrics);

  const std::string status_path_;
  const std::string metrics_path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable written_;
  std::optional<std::pair<std::string, std::string>> pending_;  // guarded by mutex_
  uint64_t published_ = 0;                                      // guarded by mutex_
  uint64_t done_ = 0;                                           // guarded by mutex_
  bool stopping_ = false;                                       // guarded by mutex_
  std::thread thread_;
};

}  // namespace postcore::volume
