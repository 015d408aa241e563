// Input a session has received but not processed yet. It is consumed from the front without
// moving what remains, so a buffer holding several pipelined messages is not shifted once per
// message; the consumed front is dropped when more input is appended.
#pragma once

#include <string.h>

#include <string>
#include <string_view>

namespace postcore::smtp {

class PendingInput {
 public:
  bool empty() const { return begin_ == bytes_.size(); }
  size_t size() const { return bytes_.size() - begin_; }

  // Valid until the next append() or clear().
  std::string_view view() const { return std::string_view(bytes_).substr(begin_); }

  void append(std::string_view more) {
    if (begin_ > 0) {
      bytes_.erase(0, begin_);
      begin_ = 0;
    }
    bytes_.append(more);
  }

  void consume(size_t count) {
    begin_ += count;
    if (begin_ == bytes_.size()) clear();
  }

  void clear() {
    bytes_.clear();
    begin_ = 0;
  }

  // Overwrites the octets that are held but no longer part of the input: the consumed front,
  // and the spare capacity, where append() and clear() leave earlier contents behind. For
  // input that held credentials; a block given up when the buffer grew is not reached.
  void wipe_spent() {
    explicit_bzero(bytes_.data(), begin_);
    explicit_bzero(bytes_.data() + bytes_.size(), bytes_.capacity() - bytes_.size());
  }

 private:
  std::string bytes_;
  size_t begin_ = 0;
};

}  // namespace postcore::smtp
