// CoreMesh: explicit messages between reactor cores. Every ordered pair of cores has its
// own SpscRing, so no two threads ever write the same ring; a message is a task that runs
// on the receiving core. Delivery (a message spooled on one core, a mailbox owned by
// another) and IMAP IDLE notifications travel this way; nothing else crosses cores.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "dataplane/engine/reactor.h"
#include "dataplane/engine/spsc_ring.h"

namespace postcore::engine {

class CoreMesh {
 public:
  using Task = std::function<void()>;

  // Wires every pair of `reactors` (index = core index). Call before the reactors run.
  CoreMesh(const std::vector<Reactor*>& reactors, size_t ring_capacity_pow2 = 4096);

  // From core `from`'s thread: runs `task` on core `to`. False when the ring is full
  // (the receiver is far behind): the caller keeps the work and tries again later.
  bool send(unsigned from, unsigned to, Task task);

 private:
  std::vector<Reactor*> reactors_;
  size_t n_;
  std::vector<std::unique_ptr<SpscRing<Task>>> rings_;  // [from * n + to]
};

}  // namespace postcore::engine
