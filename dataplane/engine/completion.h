// Completion: what an io_uring submission points back to. Every SQE's user_data is a
// Completion*; the reactor calls complete() with the CQE's result and flags. Owners
// keep the object alive until the last completion for it (multishot ops deliver several;
// IORING_CQE_F_MORE tells whether more will come).
#pragma once

#include <cstdint>

namespace postcore::engine {

class Completion {
 public:
  virtual void complete(int result, uint32_t flags) = 0;

 protected:
  ~Completion() = default;
};

}  // namespace postcore::engine
