#include "dataplane/engine/core_mesh.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace postcore::engine {
namespace {

// Two real reactors on two threads bounce a counter back and forth through the mesh.
TEST(CoreMesh, PingPongBetweenReactorThreads) {
  constexpr int kRounds = 20000;
  Reactor a(ReactorOptions{0, -1, 64}), b(ReactorOptions{1, -1, 64});
  std::atomic<int> ready{0};
  CoreMesh* mesh_ptr = nullptr;
  std::atomic<int> last{0};
  std::function<void(unsigned, int)> bounce = [&](unsigned at, int n) {
    last.store(n);
    if (n == kRounds) {
      a.stop();
      b.stop();
      return;
    }
    unsigned other = 1 - at;
    while (!mesh_ptr->send(at, other, [&, other, n] { bounce(other, n + 1); })) {
    }
  };
  auto run = [&](Reactor& r) {
    ASSERT_TRUE(r.init());
    ready.fetch_add(1);
    while (ready.load() < 3) std::this_thread::yield();
    r.run();
  };
  std::thread ta(run, std::ref(a)), tb(run, std::ref(b));
  while (ready.load() < 2) std::this_thread::yield();
  CoreMesh mesh({&a, &b});
  mesh_ptr = &mesh;
  a.post([&] { bounce(0, 0); });
  ready.store(3);
  ta.join();
  tb.join();
  EXPECT_EQ(last.load(), kRounds);
}

}  // namespace
}  // namespace postcore::engine
