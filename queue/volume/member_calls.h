// MemberCalls: the synchronous calls of a mirrored operation (open, fsync at segment
// rotation, rename …), one per member, run at once on a thread of each member's, and
// waited for at most a deadline. A member whose disk stopped answering then holds up
// nobody: its call is abandoned (never started if it had not, its late answer dropped),
// its thread is left to end by itself (the member's next call gets a new one), and the
// caller degrades the member and goes on with the others.
//
// Only for a FileIo whose synchronous calls are safe on any thread
// (FileIo::calls_run_on_any_thread: plain system calls). Owned by one MirroredFileIo, called from
// its thread, or by a VolumeSet, called from its keeper (the writes of the members' metas).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.h"

namespace postcore::volume {

class MemberCalls {
 public:
  // One member's call. It may run after run() returned, so it owns its inputs (paths and
  // bytes by value, descriptors as numbers). Its value: a descriptor for an open, else 0.
  using Call = std::function<Result<int>()>;
  // Takes the value of a call that answered too late (closes a late descriptor). Runs on
  // the member's thread.
  using Discard = std::function<void(int)>;

  MemberCalls() = default;
  ~MemberCalls();
  MemberCalls(const MemberCalls&) = delete;
  MemberCalls& operator=(const MemberCalls&) = delete;

  // Runs calls[m] for every m that has one, in parallel, and returns each one's result,
  // or nullopt for a member that did not answer within `timeout`.
  std::vector<std::optional<Result<int>>> run(std::vector<Call> calls,
                                              std::chrono::milliseconds timeout,
                                              const Discard& discard);

 private:
  struct Batch;
  struct Pending;
  struct Worker;
  void retire(size_t m);
  std::vector<std::shared_ptr<Worker>> workers_;  // index = member, started at first use
};

// A member call that gives no value (a rename, an fsync …), from a body returning
// Result<void>.
template <typename Body>
MemberCalls::Call call_without_value(Body body) {
  return [body = std::move(body)]() -> Result<int> {
    if (Result<void> r = body(); !r) return r.error();
    return -1;
  };
}

}  // namespace postcore::volume
