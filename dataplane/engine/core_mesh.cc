#include "dataplane/engine/core_mesh.h"

namespace postcore::engine {

CoreMesh::CoreMesh(const std::vector<Reactor*>& reactors, size_t ring_capacity_pow2)
    : reactors_(reactors), n_(reactors.size()) {
  rings_.resize(n_ * n_);
  for (size_t from = 0; from < n_; ++from) {
    for (size_t to = 0; to < n_; ++to) {
      if (from == to) continue;
      rings_[from * n_ + to] = std::make_unique<SpscRing<Task>>(ring_capacity_pow2);
      SpscRing<Task>* ring = rings_[from * n_ + to].get();
      reactors_[to]->add_inbox([ring] {
        size_t ran = 0;
        while (auto task = ring->pop()) {
          (*task)();
          ++ran;
        }
        return ran;
      });
    }
  }
}

bool CoreMesh::send(unsigned from, unsigned to, Task task) {
  if (from == to) {
    task();
    return true;
  }
  if (!rings_[from * n_ + to]->push(std::move(task))) return false;
  reactors_[to]->wake_if_sleeping();
  return true;
}

}  // namespace postcore::engine
