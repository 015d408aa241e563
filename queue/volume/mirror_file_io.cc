#include "queue/volume/mirror_file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>

#include "common/log.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::volume {

bool is_device_error(int error) {
  switch (error) {
    case EIO:
    case ENOSPC:
    case EROFS:
    case EDQUOT:
    case ENODEV:
    case ENXIO:
    case ESTALE:
    case ENOTCONN:
    case ETIMEDOUT:
    case EUCLEAN:
    case ENOMEDIUM:
      return true;
    default:
      return false;
  }
}

namespace {

// A member call that gives no value.
template <typename Body>
MemberCalls::Call no_value(Body body) {
  return [body = std::move(body)]() -> Result<int> {
    if (Result<void> r = body(); !r) return r.error();
    return -1;
  };
}

// A synchronous change, counted in flight for as long as it runs (VolumeSet::changes_begin).
class ChangeInFlight {
 public:
  explicit ChangeInFlight(VolumeSet& set) : set_(set), epoch_(set.changes_begin()) {}
  ~ChangeInFlight() { set_.changes_end(epoch_); }
  ChangeInFlight(const ChangeInFlight&) = delete;
  ChangeInFlight& operator=(const ChangeInFlight&) = delete;

 private:
  VolumeSet& set_;
  const uint64_t epoch_;
};

}  // namespace

struct MirroredFileIo::AsyncOp {
  IoCallback done;
  int success = 0;  // what the caller is told when some member succeeded
  size_t pending = 0;
  std::bitset<kMaxVolumeMembers> waiting;    // per member: issued, not yet answered
  std::bitset<kMaxVolumeMembers> succeeded;  // per member: answered success while healthy
  std::chrono::steady_clock::time_point issued;
  uint64_t epoch = 0;                       // counted in flight under it until answered
  const char* verb = "";                    // "write to", for messages
  std::shared_ptr<const std::string> path;  // shared with the handle: no copy per operation
  std::string what() const { return std::string(verb) + " " + *path; }
};

MirroredFileIo::MirroredFileIo(std::shared_ptr<VolumeSet> set, FileIo& under, Defer defer,
                               std::chrono::milliseconds timeout)
    : set_(std::move(set)),
      under_(under),
      // Plain system calls hold no state of the FileIo: safe on the members' threads, and
      // even for a call that returns after this FileIo is gone.
      syscalls_(dynamic_cast<SyscallFileIo*>(&under) != nullptr),
      defer_(std::move(defer)),
      timeout_(timeout) {}

MirroredFileIo::~MirroredFileIo() {
  for (size_t fd = 0; fd < handles_.size(); fd++)
    if (handles_[fd]) (void)close(static_cast<int>(fd));
}

Result<std::string> MirroredFileIo::member_path(size_t member, const std::string& path) const {
  const std::string& root = set_->logical_root();
  if (path.compare(0, root.size(), root) != 0 ||
      (path.size() > root.size() && path[root.size()] != '/'))
    return make_error(EINVAL, path + ": not inside the volume set " + root);
  return set_->member_root(member) + path.substr(root.size());
}

MirroredFileIo::Handle* MirroredFileIo::handle(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= handles_.size()) return nullptr;
  return handles_[fd].get();
}

bool MirroredFileIo::device_failure(size_t m, int error, const std::string& what) {
  if (!is_device_error(error)) return false;
  set_->fail(m, error, what);
  return true;
}

// A member being rebuilt gets every file that is written, created where it is missing (with
// its directories): the rebuild copies what was there before, the writes add what comes.
Result<MemberCalls::Call> MirroredFileIo::rebuild_open(const Handle& h, size_t m) {
  if ((h.flags & O_ACCMODE) == O_RDONLY) return MemberCalls::Call(nullptr);  // nothing to write
  auto p = member_path(m, *h.path);
  if (!p) return p.error();
  return MemberCalls::Call([io = &under_, path = *p, root_size = set_->member_root(m).size(),
                            flags = (h.flags & ~(O_EXCL | O_TRUNC)) | O_CREAT,
                            mode = h.mode ? h.mode : 0640]() -> Result<int> {
    for (size_t slash = path.find('/', root_size + 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (auto r = io->mkdir(path.substr(0, slash)); !r) return r.error();
    }
    return io->open(path, flags, mode);
  });
}

// When members went out or came in since the last call: closes the open files on members
// that went out (a member that comes back is another disk, or a rebuilt directory: the old
// descriptors point at what was there before), and opens them on members that take
// writes now (one may have finished its rebuild by now: then it holds the file already).
void MirroredFileIo::sync_epoch() {
  const uint64_t epoch = set_->epoch();
  if (epoch == seen_epoch_) return;
  seen_epoch_ = epoch;
  for (auto& h : handles_) {
    if (!h) continue;
    for (size_t m = 0; m < h->fds.size(); m++) {
      const uint64_t incarnation = set_->incarnation(m);
      if (h->fds[m] >= 0 && (!set_->writable(m) || h->incarnations[m] != incarnation)) {
        (void)under_.close(h->fds[m]);
        h->fds[m] = -1;
      }
      if (h->fds[m] < 0 && set_->writable(m)) {
        h->incarnations[m] = incarnation;
        auto call = rebuild_open(*h, m);
        if (!call) {
          device_failure(m, call.error().code, *h->path);
        } else if (*call) {
          Result<int> fd = (*call)();
          if (fd)
            h->fds[m] = *fd;
          else
            device_failure(m, fd.error().code, *h->path);
        }
      }
    }
  }
}

// The healthy members take reads in turn.
size_t MirroredFileIo::next_reader() {
  const size_t healthy = set_->healthy_count();
  if (healthy == 0) return 0;
  size_t skip = next_reader_++ % healthy;
  for (size_t m = 0; m < set_->size(); m++) {
    if (!set_->healthy(m)) continue;
    if (skip-- == 0) return m;
  }
  return 0;
}

Result<void> MirroredFileIo::on_all(const std::string& what,
                                    const std::function<Result<MemberCalls::Call>(size_t)>& prepare,
                                    const std::function<void(size_t, int)>& accept) {
  ChangeInFlight counted(*set_);  // before the members are chosen: see changes_begin
  sync_epoch();
  const size_t n = set_->size();
  std::vector<MemberCalls::Call> calls(n);
  std::vector<std::optional<Result<int>>> results(n);
  size_t taking = 0;
  for (size_t m = 0; m < n; m++) {
    if (!set_->writable(m)) continue;
    auto call = prepare(m);
    if (!call)
      results[m] = call.error();
    else if (*call)
      calls[m] = std::move(*call), taking++;
    else
      results[m] = -1;  // nothing to do on this member
  }
  if (syscalls_ && taking > 1) {
    // At once, and bounded: a member that does not answer in time is degraded below.
    auto answers = member_calls_.run(calls, timeout_, [](int fd) {
      if (fd >= 0) ::close(fd);
    });
    for (size_t m = 0; m < n; m++) {
      if (!calls[m]) continue;
      if (answers[m]) {
        results[m] = std::move(*answers[m]);
        continue;
      }
      log::error("volume", "member {}: no answer to {} in {} ms", set_->member_root(m), what,
                 timeout_.count());
      results[m] = make_error(ETIMEDOUT, "no answer");
    }
  } else {
    for (size_t m = 0; m < n; m++)
      if (calls[m]) results[m] = calls[m]();
  }

  std::vector<std::pair<size_t, Error>> failures;
  bool any_ok = false;
  for (size_t m = 0; m < n; m++) {
    if (!results[m]) continue;
    const Result<int>& r = *results[m];
    if (r && accept) accept(m, *r);
    if (!set_->healthy(m)) {
      // Being rebuilt: it may not have the file yet, which the rebuild sees to; only a
      // device error counts.
      if (!r) device_failure(m, r.error().code, what);
      continue;
    }
    if (!r && !device_failure(m, r.error().code, what)) failures.emplace_back(m, r.error());
  }
  // Counted once every failure above has taken its member out: a member that did it and
  // is out now holds nothing anyone will read.
  for (size_t m = 0; m < n; m++) any_ok = any_ok || (results[m] && *results[m] && set_->healthy(m));
  if (any_ok) {
    // The others did it: a member that could not has diverged from them.
    for (const auto& [m, error] : failures)
      set_->fail(m, error.code, what + " (the other members could)");
    return {};
  }
  if (!failures.empty()) return failures.front().second;
  return make_error(EIO, what + ": no healthy member in volume set " + set_->logical_root());
}

Result<int> MirroredFileIo::on_member(size_t m, const std::string& what, MemberCalls::Call call) {
  if (!syscalls_ || set_->healthy_count() < 2) return call();
  std::vector<MemberCalls::Call> calls(set_->size());
  calls[m] = std::move(call);
  auto answers = member_calls_.run(std::move(calls), timeout_, [](int) {});
  if (answers[m]) return std::move(*answers[m]);
  log::error("volume", "member {}: no answer to {} in {} ms", set_->member_root(m), what,
             timeout_.count());
  return make_error(ETIMEDOUT, "no answer");
}

Result<size_t> MirroredFileIo::read_member(size_t m, int member_fd, uint64_t offset, void* buf,
                                           size_t len, const std::string& what) {
  if (!syscalls_ || set_->healthy_count() < 2 || len > INT_MAX)
    return under_.read(member_fd, offset, buf, len);
  // Read into bytes of its own: a read given up on may still finish later.
  auto bytes = std::make_shared<std::string>(len, '\0');
  auto got = on_member(m, what, [io = &under_, member_fd, offset, bytes]() -> Result<int> {
    auto n = io->read(member_fd, offset, bytes->data(), bytes->size());
    if (!n) return n.error();
    return static_cast<int>(*n);
  });
  if (!got) return got.error();
  std::memcpy(buf, bytes->data(), static_cast<size_t>(*got));
  return static_cast<size_t>(*got);
}

Result<int> MirroredFileIo::open(const std::string& path, int flags, mode_t mode) {
  auto h = std::make_unique<Handle>();
  h->fds.assign(set_->size(), -1);
  h->incarnations.assign(set_->size(), 0);
  for (size_t m = 0; m < set_->size(); m++) h->incarnations[m] = set_->incarnation(m);
  h->path = std::make_shared<const std::string>(path);
  h->flags = flags;
  h->mode = mode;
  auto r = on_all(
      "open " + path,
      [&](size_t m) -> Result<MemberCalls::Call> {
        if (!set_->healthy(m)) return rebuild_open(*h, m);
        auto p = member_path(m, path);
        if (!p) return p.error();
        return MemberCalls::Call(
            [io = &under_, p = *p, flags, mode] { return io->open(p, flags, mode); });
      },
      [&](size_t m, int fd) { h->fds[m] = fd; });
  if (!r) {
    for (int fd : h->fds)
      if (fd >= 0) (void)under_.close(fd);
    return r.error();
  }
  // A member taken out during the open keeps no descriptor.
  for (size_t m = 0; m < h->fds.size(); m++) {
    if (h->fds[m] >= 0 && !set_->writable(m)) {
      (void)under_.close(h->fds[m]);
      h->fds[m] = -1;
    }
  }
  int fd;
  if (!free_handles_.empty()) {
    fd = free_handles_.back();
    free_handles_.pop_back();
    handles_[fd] = std::move(h);
  } else {
    fd = static_cast<int>(handles_.size());
    handles_.push_back(std::move(h));
  }
  return fd;
}

Result<void> MirroredFileIo::close(int fd) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "close: bad descriptor");
  for (int member_fd : h->fds)
    if (member_fd >= 0) (void)under_.close(member_fd);
  handles_[fd].reset();
  free_handles_.push_back(fd);
  return {};
}

Result<uint64_t> MirroredFileIo::size(int fd) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "size: bad descriptor");
  for (size_t m = 0; m < h->fds.size(); m++) {
    if (h->fds[m] < 0 || !set_->healthy(m)) continue;
    auto s = under_.size(h->fds[m]);
    if (!s && device_failure(m, s.error().code, "size of " + *h->path)) continue;
    return s;
  }
  return make_error(EIO, *h->path + ": no healthy member");
}

Result<size_t> MirroredFileIo::read(int fd, uint64_t offset, void* buf, size_t len) {
  return read_checked(fd, offset, buf, len, nullptr);
}

std::optional<size_t> MirroredFileIo::copy_member(const Handle& h, size_t copy) const {
  for (size_t m = 0; m < h.fds.size(); m++) {
    if (h.fds[m] < 0 || !set_->healthy(m)) continue;
    if (copy-- == 0) return m;
  }
  return std::nullopt;
}

size_t MirroredFileIo::copies(int fd) {
  Handle* h = handle(fd);
  size_t n = 0;
  for (size_t m = 0; h && m < h->fds.size(); m++) n += h->fds[m] >= 0 && set_->healthy(m);
  return n;
}

Result<uint64_t> MirroredFileIo::copy_size(int fd, size_t copy) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "size: bad descriptor");
  std::optional<size_t> m = copy_member(*h, copy);
  if (!m) return make_error(EIO, *h->path + ": no copy " + std::to_string(copy));
  auto s = under_.size(h->fds[*m]);
  if (!s) device_failure(*m, s.error().code, "size of " + *h->path);
  return s;
}

Result<size_t> MirroredFileIo::read_copy(int fd, size_t copy, uint64_t offset, void* buf,
                                         size_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "read: bad descriptor");
  std::optional<size_t> m = copy_member(*h, copy);
  if (!m) return make_error(EIO, *h->path + ": no copy " + std::to_string(copy));
  auto got = read_member(*m, h->fds[*m], offset, buf, len, "read of " + *h->path);
  if (!got) device_failure(*m, got.error().code, "read of " + *h->path);
  return got;
}

Result<void> MirroredFileIo::mend_copy(int fd, size_t copy, uint64_t offset, const void* data,
                                       size_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "mend: bad descriptor");
  std::optional<size_t> m = copy_member(*h, copy);
  if (!m) return make_error(EIO, *h->path + ": no copy " + std::to_string(copy));
  log::warning("volume", "member {}: mending {} bytes of {} at offset {}", set_->member_root(*m),
               len, *h->path, offset);
  return mend_member(*m, *h->path, offset, data, len);
}

// The file may be open read-only here: the repair opens the member's file for writing.
Result<void> MirroredFileIo::mend_member(size_t m, const std::string& path, uint64_t offset,
                                         const void* data, size_t len) {
  auto p = member_path(m, path);
  Result<void> r = p ? Result<void>() : Result<void>(p.error());
  if (r) {
    auto bytes = std::make_shared<const std::string>(static_cast<const char*>(data), len);
    auto done = on_member(
        m, "repair of " + path, no_value([io = &under_, p = *p, offset, bytes]() -> Result<void> {
          auto fd = io->open(p, O_WRONLY, 0);
          if (!fd) return fd.error();
          Result<void> wrote = io->write_at(*fd, offset, bytes->data(), bytes->size());
          if (wrote) wrote = io->sync(*fd);
          (void)io->close(*fd);
          return wrote;
        }));
    if (!done) r = done.error();
  }
  if (!r) {
    set_->fail(m, r.error().code, "repair of " + path);
    return r;
  }
  set_->count_repair(m);
  return {};
}

Result<size_t> MirroredFileIo::read_checked(int fd, uint64_t offset, void* buf, size_t len,
                                            const Check& good) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "read: bad descriptor");
  const size_t n = h->fds.size();
  const size_t start = next_reader();
  std::vector<size_t> bad;  // members whose bytes failed the check
  std::string first_bytes;
  std::optional<size_t> first_count;
  for (size_t k = 0; k < n; k++) {
    const size_t m = (start + k) % n;
    if (h->fds[m] < 0 || !set_->healthy(m)) continue;
    auto got = read_member(m, h->fds[m], offset, buf, len, "read of " + *h->path);
    if (!got) {
      if (device_failure(m, got.error().code, "read of " + *h->path)) continue;
      return got;
    }
    if (!good || good(buf, *got)) {
      for (size_t b : bad) {
        log::warning("volume", "member {}: bad data in {} at offset {}; mending it from {}",
                     set_->member_root(b), *h->path, offset, set_->member_root(m));
        (void)mend_member(b, *h->path, offset, buf, *got);
      }
      return got;
    }
    set_->count_error(m);
    bad.push_back(m);
    if (!first_count) {
      first_count = *got;
      first_bytes.assign(static_cast<const char*>(buf), *got);
    }
  }
  if (first_count) {
    // No member has good bytes: give back what the first said, for the caller to judge.
    std::memcpy(buf, first_bytes.data(), *first_count);
    return *first_count;
  }
  return make_error(EIO, *h->path + ": no healthy member");
}

Result<void> MirroredFileIo::write_at(int fd, uint64_t offset, const void* data, size_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "write: bad descriptor");
  // Copied once for all members: a call may outlive this one (see MemberCalls).
  auto bytes = std::make_shared<const std::string>(static_cast<const char*>(data), len);
  return on_all("write to " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return no_value([io = &under_, fd = h->fds[m], offset, bytes] {
      return io->write_at(fd, offset, bytes->data(), bytes->size());
    });
  });
}

Result<void> MirroredFileIo::truncate(int fd, uint64_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "truncate: bad descriptor");
  return on_all("truncate " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return no_value([io = &under_, fd = h->fds[m], len] { return io->truncate(fd, len); });
  });
}

Result<void> MirroredFileIo::sync(int fd) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "sync: bad descriptor");
  return on_all("sync " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return no_value([io = &under_, fd = h->fds[m]] { return io->sync(fd); });
  });
}

// The directories above the logical root stand for those above the members' roots, which
// the set made (with their names made durable) when it opened.
bool MirroredFileIo::above_root(const std::string& path) const {
  const std::string& root = set_->logical_root();
  return path.size() < root.size() && root.compare(0, path.size(), path) == 0 &&
         (root[path.size()] == '/' || path == "/");
}

Result<void> MirroredFileIo::mkdir(const std::string& path) {
  if (path == set_->logical_root() || above_root(path)) return {};
  return on_all("mkdir " + path, [&](size_t m) -> Result<MemberCalls::Call> {
    auto p = member_path(m, path);
    if (!p) return p.error();
    return no_value([io = &under_, p = *p] { return io->mkdir(p); });
  });
}

Result<void> MirroredFileIo::sync_dir(const std::string& path) {
  if (above_root(path)) return {};
  return on_all("sync of " + path, [&](size_t m) -> Result<MemberCalls::Call> {
    auto p = member_path(m, path);
    if (!p) return p.error();
    return no_value([io = &under_, p = *p] { return io->sync_dir(p); });
  });
}

Result<void> MirroredFileIo::rename(const std::string& from, const std::string& to) {
  return on_all("rename " + from, [&](size_t m) -> Result<MemberCalls::Call> {
    auto f = member_path(m, from);
    if (!f) return f.error();
    auto t = member_path(m, to);
    if (!t) return t.error();
    return no_value([io = &under_, f = *f, t = *t] { return io->rename(f, t); });
  });
}

Result<void> MirroredFileIo::unlink(const std::string& path) {
  return on_all("unlink " + path, [&](size_t m) -> Result<MemberCalls::Call> {
    auto p = member_path(m, path);
    if (!p) return p.error();
    return no_value([io = &under_, p = *p] { return io->unlink(p); });
  });
}

Result<std::vector<std::string>> MirroredFileIo::list_dir(const std::string& path) {
  for (size_t m = 0; m < set_->size(); m++) {
    if (!set_->healthy(m)) continue;
    auto p = member_path(m, path);
    if (!p) return p.error();
    auto names = under_.list_dir(*p);
    if (!names && device_failure(m, names.error().code, "list of " + path)) continue;
    return names;
  }
  return make_error(EIO, path + ": no healthy member");
}

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
// degrades it; the caller hears once every member answered. It succeeds only when a member
// that did it is still healthy then: a member that answered success and was taken out
// before the last answer (by this failure or another) holds nothing anyone will read.
// set_->fail() returns once the members still in are at the generation that excludes the
// failed one, so no success is reported before that generation is durable.
void MirroredFileIo::answer(const std::shared_ptr<AsyncOp>& op, size_t m, int error) {
  if (!op->waiting[m]) return;
  op->waiting[m] = false;
  if (error != 0)
    set_->fail(m, error, op->what());
  else if (set_->healthy(m))
    op->succeeded[m] = true;
  if (--op->pending > 0) return;
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
      log::error("volume", "member {}: no answer to {} in {} s", set_->member_root(m), op->what(),
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
