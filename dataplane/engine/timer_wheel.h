// TimerWheel: idle and command timeouts for thousands of connections per core. A
// hashed wheel with fixed ticks gives O(1) arm/cancel; timeouts here are seconds long,
// so a tick of 100 ms is ample precision. Timers are intrusive: the owner embeds a
// Timer and must cancel it (or let it fire) before destroying it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace postcore::engine {

using Clock = std::chrono::steady_clock;

class TimerWheel;

class Timer {
 public:
  explicit Timer(std::function<void()> on_expire) : on_expire_(std::move(on_expire)) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  bool armed() const { return wheel_ != nullptr; }

 private:
  friend class TimerWheel;
  std::function<void()> on_expire_;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  uint64_t expiry_tick_ = 0;
};

class TimerWheel {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  explicit TimerWheel(Clock::time_point now, size_t slots = 4096);
  ~TimerWheel();

  void arm(Timer& timer, std::chrono::milliseconds after);
  void cancel(Timer& timer);

  // Runs every timer due at `now`. A callback may arm or cancel any timer.
  void advance(Clock::time_point now);

  // Time until the next tick that has a timer in it, capped; nullopt-like -1 if none.
  std::chrono::milliseconds next_timeout(Clock::time_point now,
                                         std::chrono::milliseconds cap) const;
  size_t armed_count() const { return armed_; }

 private:
  uint64_t tick_of(Clock::time_point t) const;
  void link(Timer& timer);
  void unlink(Timer& timer);

  Clock::time_point origin_;
  uint64_t current_tick_;
  std::vector<Timer*> slots_;  // heads of intrusive doubly linked lists
  size_t armed_ = 0;
};

}  // namespace postcore::engine
