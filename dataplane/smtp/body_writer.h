// Where the decoded bytes of one message go. The DATA and BDAT decoders write through this:
// it forwards bytes to the host, counts them against the size limit, and remembers every
// reason the message must be refused. On the first such fault the host is told to discard
// the message at once, so a refused message costs no more storage work; from then on bytes
// are only counted. Which reply the client gets is chosen from all faults at the end, so it
// does not depend on where the input happened to be split.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/smtp/session_host.h"

namespace postcore::smtp {

enum BodyFault : uint8_t {
  body_fault_too_big = 1,           // 552 5.3.4
  body_fault_bare_line_ending = 2,  // 550 5.6.0
  body_fault_line_too_long = 4,     // 500 5.5.6
  body_fault_store_refused = 8,     // 451 4.3.0: message_begin gave no queue id
};

class BodyWriter {
 public:
  // Starts a message the host has accepted with message_begin().
  void open(SessionHost* host, uint64_t max_size) {
    host_ = host;
    max_size_ = max_size;
    size_ = 0;
    faults_ = 0;
    open_ = true;
  }

  // Starts a message the host could not take: everything written is only counted.
  void open_refused(uint64_t max_size) {
    open(nullptr, max_size);
    open_ = false;
    faults_ = body_fault_store_refused;
  }

  // The size is checked even after another fault, so the set of faults at the end is the
  // same however the input was split.
  void write(std::string_view bytes) {
    size_ += bytes.size();
    if (size_ > max_size_) {
      fault(body_fault_too_big);
      return;
    }
    if (open_ && !bytes.empty()) host_->message_data(bytes);
  }

  void fault(BodyFault why) {
    faults_ |= why;
    if (open_) {
      open_ = false;
      host_->message_abort();
    }
  }

  // Hands the message to the host for commit; false if a fault already discarded it.
  bool finish() {
    if (!open_) return false;
    open_ = false;
    host_->message_end();
    return true;
  }

  // Drops a message that will not be finished (RSET, QUIT, timeout, shutdown).
  void discard() {
    if (!open_) return;
    open_ = false;
    host_->message_abort();
  }

  uint8_t faults() const { return faults_; }
  uint64_t size() const { return size_; }

 private:
  SessionHost* host_ = nullptr;
  uint64_t max_size_ = 0;
  uint64_t size_ = 0;
  uint8_t faults_ = 0;
  bool open_ = false;
};

}  // namespace postcore::smtp
