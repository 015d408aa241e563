// What the spool remembers about a committed message without reading it: where its
// records are, what its content checksums to, and which recipients are done.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

namespace postcore::spool {

// One bit per recipient. Up to 64 recipients (nearly every message) fit inline, so a
// million queued messages cost no extra allocation.
class DoneBits {
 public:
  DoneBits() = default;
  explicit DoneBits(uint32_t recipients) : size_(recipients) {
    if (size_ > 64) heap_ = std::make_unique<uint64_t[]>(word_count());
  }
  DoneBits(const DoneBits& other) : size_(other.size_), inline_(other.inline_) {
    if (other.heap_) {
      heap_ = std::make_unique<uint64_t[]>(word_count());
      std::memcpy(heap_.get(), other.heap_.get(), word_count() * sizeof(uint64_t));
    }
  }
  DoneBits& operator=(const DoneBits& other) {
    if (this != &other) *this = DoneBits(other);
    return *this;
  }
  DoneBits(DoneBits&&) noexcept = default;
  DoneBits& operator=(DoneBits&&) noexcept = default;

  uint32_t size() const { return size_; }
  size_t word_count() const { return (size_ + 63) / 64; }
  uint64_t word(size_t i) const { return words()[i]; }
  void set_word(size_t i, uint64_t bits) { words()[i] = bits & word_mask(i); }

  bool test(uint32_t i) const { return i < size_ && (words()[i / 64] >> (i % 64)) & 1; }
  void set(uint32_t i) {
    if (i < size_) words()[i / 64] |= uint64_t{1} << (i % 64);
  }
  bool all() const {
    for (size_t i = 0; i < word_count(); i++) {
      if (words()[i] != word_mask(i)) return false;
    }
    return true;
  }
  uint32_t count() const {
    uint32_t n = 0;
    for (size_t i = 0; i < word_count(); i++)
      n += static_cast<uint32_t>(__builtin_popcountll(words()[i]));
    return n;
  }

 private:
  uint64_t word_mask(size_t i) const {
    uint32_t bits = std::min<uint32_t>(64, size_ - static_cast<uint32_t>(i * 64));
    return bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  }
  uint64_t* words() { return heap_ ? heap_.get() : &inline_; }
  const uint64_t* words() const { return heap_ ? heap_.get() : &inline_; }

  uint32_t size_ = 0;
  uint64_t inline_ = 0;
  std::unique_ptr<uint64_t[]> heap_;
};

struct StoredMessage {
  uint64_t key = 0;
  uint64_t first_offset = 0;  // the ENVELOPE record
  uint64_t end_offset = 0;    // the END record
  uint64_t content_length = 0;
  uint32_t content_crc = 0;
  DoneBits done;  // size() is the recipient count
};

// A DONE record: recipient `recipient` of message `key` needs no more delivery.
struct DoneEntry {
  uint64_t key = 0;
  uint32_t recipient = 0;
};

}  // namespace postcore::spool
