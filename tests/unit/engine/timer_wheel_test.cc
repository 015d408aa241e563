#include "dataplane/engine/timer_wheel.h"

#include <gtest/gtest.h>

#include <vector>

namespace postcore::engine {
namespace {

using std::chrono::milliseconds;

TEST(TimerWheel, FiresOnlyWhenDue) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.arm(t, milliseconds(1000));
  wheel.advance(t0 + milliseconds(900));
  EXPECT_EQ(fired, 0);
  wheel.advance(t0 + milliseconds(1000));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.armed());
}

TEST(TimerWheel, RearmPostpones) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.arm(t, milliseconds(500));
  wheel.advance(t0 + milliseconds(400));
  wheel.arm(t, milliseconds(500));  // from tick 4: due at 900 ms
  wheel.advance(t0 + milliseconds(800));
  EXPECT_EQ(fired, 0);
  wheel.advance(t0 + milliseconds(900));
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CancelAndDestroyDisarm) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0);
  int fired = 0;
  Timer a([&] { ++fired; });
  wheel.arm(a, milliseconds(100));
  wheel.cancel(a);
  {
    Timer b([&] { ++fired; });
    wheel.arm(b, milliseconds(100));
  }
  EXPECT_EQ(wheel.armed_count(), 0u);
  wheel.advance(t0 + milliseconds(1000));
  EXPECT_EQ(fired, 0);
}

TEST(TimerWheel, LongerThanOneRevolution) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0, 8);  // 800 ms per revolution
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.arm(t, milliseconds(2000));
  wheel.advance(t0 + milliseconds(1900));
  EXPECT_EQ(fired, 0);
  wheel.advance(t0 + milliseconds(2000));
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CallbackMayRearmItself) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0);
  int fired = 0;
  Timer* self = nullptr;
  Timer t([&] {
    if (++fired < 3) wheel.arm(*self, milliseconds(100));
  });
  self = &t;
  wheel.arm(t, milliseconds(100));
  wheel.advance(t0 + milliseconds(1000));
  EXPECT_EQ(fired, 3);
}

TEST(TimerWheel, NextTimeoutReportsNearestTimer) {
  auto t0 = Clock::now();
  TimerWheel wheel(t0);
  EXPECT_EQ(wheel.next_timeout(t0, milliseconds(1000)), milliseconds(1000));
  Timer t([] {});
  wheel.arm(t, milliseconds(300));
  auto wait = wheel.next_timeout(t0, milliseconds(1000));
  EXPECT_GE(wait, milliseconds(200));
  EXPECT_LE(wait, milliseconds(300));
}

}  // namespace
}  // namespace postcore::engine
