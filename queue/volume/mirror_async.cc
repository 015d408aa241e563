// MirroredFileIo, its asynchronous writes and datasyncs (the hot path): issued to every
// member that takes writes at once, answered when each member has, a member that fails or
// does not answer within the timeout (tick) taken out, success only from a member still
// healthy at the end.
#include <array>
#include <bitset>
#include <cerrno>
#include <chrono>

#include "common/log.h"
#include "queue/volume/mirror_file_io.h"

namespace postcore::volume {

struct MirroredFileIo::AsyncOp {
  IoCallback done;
  int success = 0;     // what the caller is told when some member succeeded
  size_t pending = 0;  // members that have not answered
  size_t failing = 0;  // failures handed to the keeper, not yet recorded
  bool finished = false;
  std::bitset<kMaxVolumeMembers> waiting;    // per member: issued, not yet answered
  std::bitset<kMaxVolumeMembers> succeeded;  // per member: answered success while healthy
  std::array<uint64_t, kMaxVolumeMembers> incarnations{};  // per member, of the descriptor
  std::chrono::steady_clock::time_point issued;
  uint64_t epoch = 0;                       // counted in flight under it until answered
  const char* verb = "";                    // "write to", for messages
  std::shared_ptr<const std::string> path;  // shared with the handle: no copy per operation
  std::string what() const { return std::string(verb) + " " + *path; }
};

std::shared_ptr<MirroredFileIo::AsyncOp> MirroredFileIo::start_async(Handle* h, IoCallback done,
                                                                     int success,
                                                                     const char* what) {
  auto op = std::make_shared<AsyncOp>();
  op->epoch = set_->changes_begin();  // before the members are chosen: see changes_begin
  sync_epoch();
  op->done = std::move(done);
  op->success = success;
  op->issued = std::chrono::steady_clock::now();
  bool any_healthy = false;
  for (size_t m = 0; h && m < h->fds.size(); m++) {
    if (h->fds[m] < 0 || !set_->writable(m)) continue;
    op->pending++;
    op->waiting[m] = true;
    op->incarnations[m] = h->incarnations[m];
    any_healthy = any_healthy || set_->healthy(m);
  }
  if (op->pending > 0 && any_healthy) {
    op->verb = what;
    op->path = h->path;
    if (outstanding_.size() >= 4096)  // without tick() (tools, tests): keep it small
      std::erase_if(outstanding_,
                    [](const std::shared_ptr<AsyncOp>& o) { return o->pending == 0; });
    outstanding_.push_back(op);
    return op;
  }
  set_->changes_end(op->epoch);
  const int error = h ? -EIO : -EBADF;
  defer_([op, error] { op->done(error); });
  return nullptr;
}

// Member `m`'s final answer to `op` (a late answer after a timeout is ignored): an error
// takes it out of the set; the caller hears once every member answered and every failure
// is recorded. It succeeds only when a member that did it is still healthy then: a member
// that answered success and was taken out before (by this failure or another) holds
// nothing anyone will read. A failure is recorded (VolumeSet::fail) once the members still
// in are at the generation that excludes the failed one, so no success is reported before
// that generation is durable.
void MirroredFileIo::answer(const std::shared_ptr<AsyncOp>& op, size_t m, int error) {
  if (!op->waiting[m]) return;
  op->waiting[m] = false;
  op->pending--;
  if (error == 0) {
    if (set_->healthy(m)) op->succeeded[m] = true;
  } else if (!from_keeper_) {
    set_->fail(m, error, op->what());
  } else {
    // The keeper writes the metas; this thread goes on and hears back through from_keeper_.
    op->failing++;
    waiting_on_keeper_++;
    // The operation moves into what is posted back, so that its last reference (and the
    // caller's callback it holds) is dropped on this thread, never on the keeper's.
    set_->fail_then(
        m, op->incarnations[m], error, op->what(),
        [post = from_keeper_, alive = std::weak_ptr<MirroredFileIo*>(alive_), op]() mutable {
          post([alive, op = std::move(op)] {
            auto self = alive.lock();
            if (!self) return;
            op->failing--;
            (*self)->waiting_on_keeper_--;
            (*self)->finish(op);
          });
        });
  }
  finish(op);
}

void MirroredFileIo::finish(const std::shared_ptr<AsyncOp>& op) {
  if (op->pending > 0 || op->failing > 0 || op->finished) return;
  op->finished = true;
  set_->changes_end(op->epoch);
  bool held = false;
  for (size_t k = 0; k < set_->size(); k++) held = held || (op->succeeded[k] && set_->healthy(k));
  op->done(held ? op->success : -EIO);
}

void MirroredFileIo::tick(std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<AsyncOp>> late;
  std::erase_if(outstanding_, [&](const std::shared_ptr<AsyncOp>& op) {
    if (op->pending == 0) return true;
    if (now - op->issued >= timeout_) late.push_back(op);
    return false;
  });
  for (const auto& op : late) {
    for (size_t m = 0; m < set_->size(); m++) {
      if (!op->waiting[m]) continue;
      log::error("volume", "member {}: no answer to {} in {} s", set_->member_name(m), op->what(),
                 std::chrono::duration_cast<std::chrono::seconds>(timeout_).count());
      answer(op, m, ETIMEDOUT);
    }
  }
}

void MirroredFileIo::write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) {
  Handle* h = handle(fd);
  auto op = start_async(h, std::move(done), static_cast<int>(len), "write to");
  if (!op) return;
  for (size_t m = 0; m < h->fds.size(); m++) {
    if (!op->waiting[m]) continue;
    write_member(op, m, h->fds[m], offset, static_cast<const char*>(data), len);
  }
}

// A short write is continued with the rest, as POSIX allows a write to stop early; the
// member fails only when a write moves nothing or reports an error (a full disk gives
// a short write first and ENOSPC for the rest).
void MirroredFileIo::write_member(const std::shared_ptr<AsyncOp>& op, size_t m, int fd,
                                  uint64_t offset, const char* data, size_t len) {
  under_.write(fd, offset, data, len, [this, op, m, fd, offset, data, len](int r) {
    if (r > 0 && static_cast<size_t>(r) < len && op->waiting[m]) {
      write_member(op, m, fd, offset + r, data + r, len - r);
      return;
    }
    answer(op, m, r > 0 ? 0 : (r < 0 ? -r : EIO));
  });
}

void MirroredFileIo::datasync(int fd, IoCallback done) {
  Handle* h = handle(fd);
  auto op = start_async(h, std::move(done), 0, "datasync of");
  if (!op) return;
  for (size_t m = 0; m < h->fds.size(); m++) {
    if (!op->waiting[m]) continue;
    under_.datasync(h->fds[m], [this, op, m](int r) { answer(op, m, r < 0 ? -r : 0); });
  }
}

}  // namespace postcore::volume
