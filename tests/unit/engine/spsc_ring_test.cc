#include "dataplane/engine/spsc_ring.h"

#include <gtest/gtest.h>

#include <thread>

namespace postcore::engine {
namespace {

TEST(SpscRing, FullAndEmpty) {
  SpscRing<int> ring(4);
  EXPECT_FALSE(ring.pop());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.push(i));
  EXPECT_FALSE(ring.push(99));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*ring.pop(), i);
  EXPECT_FALSE(ring.pop());
}

TEST(SpscRing, TwoThreadsKeepOrder) {
  constexpr int kCount = 200000;
  SpscRing<int> ring(1024);
  std::thread producer([&] {
    for (int i = 0; i < kCount;)
      if (ring.push(i)) ++i;
  });
  int expected = 0;
  while (expected < kCount) {
    if (auto v = ring.pop()) {
      ASSERT_EQ(*v, expected);
      ++expected;
    }
  }
  producer.join();
}

}  // namespace
}  // namespace postcore::engine
