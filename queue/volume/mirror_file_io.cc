// MirroredFileIo, its synchronous changes: open, close, write_at, truncate, sync, mkdir,
// sync_dir, rename, unlink, fanned out to every member that takes writes (on_all). Reads
// and their repairs are in mirror_reads.cc, the asynchronous writes and datasyncs of the
// hot path in mirror_async.cc.
#include "queue/volume/mirror_file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include "common/log.h"

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

MirroredFileIo::MirroredFileIo(std::shared_ptr<VolumeSet> set, FileIo& under, Defer defer,
                               std::chrono::milliseconds timeout, Defer from_keeper)
    : set_(std::move(set)),
      under_(under),
      threaded_(under.calls_run_on_any_thread()),
      defer_(std::move(defer)),
      from_keeper_(std::move(from_keeper)),
      timeout_(timeout) {}

MirroredFileIo::~MirroredFileIo() {
  alive_.reset();
  // No task of the keeper's may call from_keeper_ once the thread it posts to is gone.
  if (from_keeper_) set_->settle();
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
  if (threaded_ && taking > 1) {
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

Result<void> MirroredFileIo::write_at(int fd, uint64_t offset, const void* data, size_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "write: bad descriptor");
  // Copied once for all members: a call may outlive this one (see MemberCalls).
  auto bytes = std::make_shared<const std::string>(static_cast<const char*>(data), len);
  return on_all("write to " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return call_without_value([io = &under_, fd = h->fds[m], offset, bytes] {
      return io->write_at(fd, offset, bytes->data(), bytes->size());
    });
  });
}

Result<void> MirroredFileIo::truncate(int fd, uint64_t len) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "truncate: bad descriptor");
  return on_all("truncate " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return call_without_value(
        [io = &under_, fd = h->fds[m], len] { return io->truncate(fd, len); });
  });
}

Result<void> MirroredFileIo::sync(int fd) {
  Handle* h = handle(fd);
  if (!h) return make_error(EBADF, "sync: bad descriptor");
  return on_all("sync " + *h->path, [&](size_t m) -> Result<MemberCalls::Call> {
    if (h->fds[m] < 0) return make_error(EBADF, "not open on this member");
    return call_without_value([io = &under_, fd = h->fds[m]] { return io->sync(fd); });
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
    return call_without_value([io = &under_, p = *p] { return io->mkdir(p); });
  });
}

Result<void> MirroredFileIo::sync_dir(const std::string& path) {
  if (above_root(path)) return {};
  return on_all("sync of " + path, [&](size_t m) -> Result<MemberCalls::Call> {
    auto p = member_path(m, path);
    if (!p) return p.error();
    return call_without_value([io = &under_, p = *p] { return io->sync_dir(p); });
  });
}

Result<void> MirroredFileIo::rename(const std::string& from, const std::string& to) {
  return on_all("rename " + from, [&](size_t m) -> Result<MemberCalls::Call> {
    auto f = member_path(m, from);
    if (!f) return f.error();
    auto t = member_path(m, to);
    if (!t) return t.error();
    return call_without_value([io = &under_, f = *f, t = *t] { return io->rename(f, t); });
  });
}

Result<void> MirroredFileIo::unlink(const std::string& path) {
  return on_all("unlink " + path, [&](size_t m) -> Result<MemberCalls::Call> {
    auto p = member_path(m, path);
    if (!p) return p.error();
    return call_without_value([io = &under_, p = *p] { return io->unlink(p); });
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

}  // namespace postcore::volume
