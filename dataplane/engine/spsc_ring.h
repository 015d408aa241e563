// SpscRing: a bounded single-producer single-consumer queue, the only channel between
// two reactor cores. Lock-free; head and tail sit on their own cache lines so the two
// cores never write the same line.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace postcore::engine {

template <typename T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity_pow2)
      : mask_(capacity_pow2 - 1), slots_(std::make_unique<std::optional<T>[]>(capacity_pow2)) {}

  // Producer side. Returns false when full (the caller decides: retry later or drop).
  bool push(T value) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_].emplace(std::move(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side.
  std::optional<T> pop() {
    size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return std::nullopt;
    }
    std::optional<T> out = std::move(slots_[head & mask_]);
    slots_[head & mask_].reset();
    head_.store(head + 1, std::memory_order_release);
    return out;
  }

 private:
  static constexpr size_t kLine = 64;
  const size_t mask_;
  std::unique_ptr<std::optional<T>[]> slots_;
  alignas(kLine) std::atomic<size_t> head_{0};
  alignas(kLine) size_t tail_cache_ = 0;  // consumer's view of tail_
  alignas(kLine) std::atomic<size_t> tail_{0};
  alignas(kLine) size_t head_cache_ = 0;  // producer's view of head_
};

}  // namespace postcore::engine
