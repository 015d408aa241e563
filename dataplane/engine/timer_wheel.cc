#include "dataplane/engine/timer_wheel.h"

#include <algorithm>

namespace postcore::engine {

Timer::~Timer() {
  if (wheel_) wheel_->cancel(*this);
}

TimerWheel::TimerWheel(Clock::time_point now, size_t slots)
    : origin_(now), current_tick_(0), slots_(slots, nullptr) {}

TimerWheel::~TimerWheel() {
  for (Timer* head : slots_) {
    while (head) {
      Timer* next = head->next_;
      head->wheel_ = nullptr;
      head->prev_ = head->next_ = nullptr;
      head = next;
    }
  }
}

uint64_t TimerWheel::tick_of(Clock::time_point t) const {
  if (t <= origin_) return 0;
  return static_cast<uint64_t>((t - origin_) / kTick);
}

void TimerWheel::link(Timer& t) {
  Timer*& head = slots_[t.expiry_tick_ % slots_.size()];
  t.prev_ = nullptr;
  t.next_ = head;
  if (head) head->prev_ = &t;
  head = &t;
  t.wheel_ = this;
  ++armed_;
}

void TimerWheel::unlink(Timer& t) {
  Timer*& head = slots_[t.expiry_tick_ % slots_.size()];
  if (t.prev_)
    t.prev_->next_ = t.next_;
  else
    head = t.next_;
  if (t.next_) t.next_->prev_ = t.prev_;
  t.prev_ = t.next_ = nullptr;
  t.wheel_ = nullptr;
  --armed_;
}

void TimerWheel::arm(Timer& t, std::chrono::milliseconds after) {
  if (t.wheel_) unlink(t);
  // Round up so a timer never fires early.
  uint64_t ticks = static_cast<uint64_t>((after + kTick - std::chrono::milliseconds(1)) / kTick);
  t.expiry_tick_ = current_tick_ + std::max<uint64_t>(ticks, 1);
  link(t);
}

void TimerWheel::cancel(Timer& t) {
  if (t.wheel_ == this) unlink(t);
}

void TimerWheel::advance(Clock::time_point now) {
  uint64_t target = tick_of(now);
  while (current_tick_ < target) {
    ++current_tick_;
    // Detach the slot first: callbacks may re-arm timers into this very slot.
    Timer* t = slots_[current_tick_ % slots_.size()];
    std::vector<Timer*> due;
    while (t) {
      Timer* next = t->next_;
      if (t->expiry_tick_ <= current_tick_) due.push_back(t);
      t = next;
    }
    for (Timer* d : due) unlink(*d);
    for (Timer* d : due) d->on_expire_();
  }
}

std::chrono::milliseconds TimerWheel::next_timeout(Clock::time_point now,
                                                   std::chrono::milliseconds cap) const {
  if (armed_ == 0) return cap;
  // Scanning ahead slot by slot is bounded by the cap and cheap at 100 ms ticks.
  uint64_t now_tick = tick_of(now);
  uint64_t limit = now_tick + static_cast<uint64_t>(cap / kTick);
  for (uint64_t tick = std::max(current_tick_ + 1, now_tick); tick <= limit; ++tick) {
    for (Timer* t = slots_[tick % slots_.size()]; t; t = t->next_) {
      if (t->expiry_tick_ <= tick) {
        auto at = origin_ + kTick * static_cast<int64_t>(tick);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
        return std::max(wait, std::chrono::milliseconds(0));
      }
    }
  }
  return cap;
}

}  // namespace postcore::engine
