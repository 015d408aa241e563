// MirroredFileIo: a FileIo over a VolumeSet. Paths are named under the set's logical
// root, as if there were one disk; every change goes to each healthy member, in parallel
// (the writes and datasyncs of all members are issued together, so with io_uring they are
// in flight at once), and completes when every member has answered. A member that answers
// with a device error (EIO, ENOSPC, EROFS, a short write …) is taken out of the set and
// the operation succeeds on the others; with no healthy member left it fails with EIO,
// which the spool turns into 451 4.3.0. Errors that are about the request itself
// (ENOENT, EEXIST …) are the same on every member and are passed through.
//
// Reads come from the healthy members in turn. read_checked() lets the caller say what a
// good block looks like (a CRC32C that matches): a block that fails the check on one
// member is read from another, and the good copy is written back over the bad one.
//
// Threads: one instance per thread (per core), like every FileIo; the VolumeSet behind it
// is shared.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "queue/volume/file_io.h"
#include "queue/volume/member_calls.h"
#include "queue/volume/volume_set.h"

namespace postcore::volume {

class MirroredFileIo final : public FileIo {
 public:
  // Runs `fn` later on this instance's thread (the reactor's post). Used to answer an
  // asynchronous call that has no member left to go to without calling back from inside
  // the call.
  using Defer = std::function<void(std::function<void()>)>;

  // `timeout`: how long a member may take to answer a write or datasync (see tick()).
  // `from_keeper`, when given, runs a function on this instance's thread and may be called
  // from any thread (Reactor::post): a member failure that a write or datasync finds is then
  // handed to the set's keeper (VolumeSet::fail_then) while this thread goes on, and the
  // operation is answered once the keeper has recorded it. Without it (tools, tests) this
  // thread waits for the keeper.
  MirroredFileIo(std::shared_ptr<VolumeSet> set, FileIo& under, Defer defer,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                 Defer from_keeper = nullptr);
  ~MirroredFileIo() override;

  Result<int> open(const std::string& path, int flags, mode_t mode) override;
  Result<void> close(int fd) override;
  Result<uint64_t> size(int fd) override;
  Result<size_t> read(int fd, uint64_t offset, void* buf, size_t len) override;
  Result<void> truncate(int fd, uint64_t len) override;
  Result<void> sync(int fd) override;
  Result<void> mkdir(const std::string& path) override;
  Result<void> sync_dir(const std::string& path) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> unlink(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;

  Result<void> write_at(int fd, uint64_t offset, const void* data, size_t len) override;

  void write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) override;
  void datasync(int fd, IoCallback done) override;

  // One copy per healthy member that holds the file open, in member order.
  size_t copies(int fd) override;
  Result<uint64_t> copy_size(int fd, size_t copy) override;
  Result<size_t> read_copy(int fd, size_t copy, uint64_t offset, void* buf, size_t len) override;
  // Counted as a repair of that member; a member that cannot take it is degraded.
  Result<void> mend_copy(int fd, size_t copy, uint64_t offset, const void* data,
                         size_t len) override;
  // A member whose bytes fail `good` is read past; once one gives good bytes they are
  // mended over each that gave bad ones. When no member has good bytes, the first one's
  // are returned and the caller's own checks decide.
  Result<size_t> read_checked(int fd, uint64_t offset, void* buf, size_t len,
                              const Check& good) override;

  const VolumeSet& set() const { return *set_; }
  // Writes and datasyncs waiting for the keeper to record a member's failure.
  size_t waiting_on_keeper() const { return waiting_on_keeper_; }

  // Called now and then (every second) on this instance's thread: a member that has not
  // answered a write or datasync within the timeout (a disk that stopped answering, a
  // frozen file system) is degraded and the operation completes with the other members.
  // Its answer, if it ever comes, is ignored. The synchronous calls (open, fsync at
  // segment rotation, rename …, reads and the repairs of read_checked) of a set of more
  // than one member run on each member's thread (MemberCalls) and are bounded by the
  // same timeout.
  void tick(std::chrono::steady_clock::time_point now);

 private:
  struct Handle {
    std::vector<int> fds;                     // per member; -1 where it is not open
    std::vector<uint64_t> incarnations;       // per member: VolumeSet::incarnation() at the open
    std::shared_ptr<const std::string> path;  // logical; shared with operations in flight
    int flags = 0;                            // as opened
    mode_t mode = 0;
  };
  struct AsyncOp;

  Result<std::string> member_path(size_t member, const std::string& path) const;
  bool above_root(const std::string& path) const;
  Handle* handle(int fd);
  // Takes member `m` out for `error` on `what` when the error is the device's.
  bool device_failure(size_t m, int error, const std::string& what);
  // Runs on every member that takes writes the call `prepare` makes for it (none: nothing
  // to do there), and hands what each answered in time to `accept`. Succeeds when a
  // healthy member did, after taking members that failed with a device error (or did not
  // answer within the timeout) out. EIO when none is healthy.
  Result<void> on_all(const std::string& what,
                      const std::function<Result<MemberCalls::Call>(size_t)>& prepare,
                      const std::function<void(size_t, int)>& accept = nullptr);
  // Runs `call` for member `m` alone: on the member's thread, bounded by the timeout, when
  // other healthy members could go on without it (ETIMEDOUT when it does not answer);
  // inline otherwise.
  Result<int> on_member(size_t m, const std::string& what, MemberCalls::Call call);
  // A read of member `m`'s descriptor, bounded like on_member().
  Result<size_t> read_member(size_t m, int member_fd, uint64_t offset, void* buf, size_t len,
                             const std::string& what);
  size_t next_reader();
  Result<MemberCalls::Call> rebuild_open(const Handle& h, size_t m);
  void sync_epoch();
  // The member that holds copy `copy` of `h`, if there is one.
  std::optional<size_t> copy_member(const Handle& h, size_t copy) const;
  // Writes good bytes over member `m`'s copy of `path` and syncs; degrades it on failure.
  Result<void> mend_member(size_t m, const std::string& path, uint64_t offset, const void* data,
                           size_t len);
  // An operation on each healthy member that holds `h` open; null (with `done` told EIO,
  // or EBADF for a bad descriptor, from outside this call) when there is none.
  std::shared_ptr<AsyncOp> start_async(Handle* h, IoCallback done, int success, const char* what);
  void answer(const std::shared_ptr<AsyncOp>& op, size_t m, int error);
  void finish(const std::shared_ptr<AsyncOp>& op);  // once nothing is left to wait for
  void write_member(const std::shared_ptr<AsyncOp>& op, size_t m, int fd, uint64_t offset,
                    const char* data, size_t len);

  std::shared_ptr<VolumeSet> set_;
  FileIo& under_;
  const bool threaded_;  // under_'s calls may run on the members' threads
  MemberCalls member_calls_;
  Defer defer_;
  Defer from_keeper_;
  size_t waiting_on_keeper_ = 0;
  // Dropped first thing in the destructor: an answer from the keeper that arrives after
  // that finds it gone and does nothing.
  std::shared_ptr<MirroredFileIo*> alive_ = std::make_shared<MirroredFileIo*>(this);
  std::vector<std::unique_ptr<Handle>> handles_;  // index = fd handed out
  std::vector<int> free_handles_;
  size_t next_reader_ = 0;
  uint64_t seen_epoch_ = 0;
  std::chrono::milliseconds timeout_;
  // Operations some member has not answered; held here too, since a member that never
  // answers may never run (or may drop) its callback. Pruned by tick().
  std::vector<std::shared_ptr<AsyncOp>> outstanding_;
};

// True for errors that say the member's storage is failing, as opposed to errors about
// the request (no such file, exists already) that every member would give alike.
bool is_device_error(int error);

}  // namespace postcore::volume
