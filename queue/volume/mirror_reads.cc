// MirroredFileIo, its reads: each from one healthy member in turn, bounded by the timeout
// where another member could go on without it, and, for a caller that knows what good
// bytes look like, read past a bad copy and mended from a good one.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <optional>

#include "common/log.h"
#include "queue/volume/mirror_file_io.h"

namespace postcore::volume {

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

Result<int> MirroredFileIo::on_member(size_t m, const std::string& what, MemberCalls::Call call) {
  if (!threaded_ || set_->healthy_count() < 2) return call();
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
  if (!threaded_ || set_->healthy_count() < 2 || len > INT_MAX)
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
    auto done =
        on_member(m, "repair of " + path,
                  call_without_value([io = &under_, p = *p, offset, bytes]() -> Result<void> {
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

}  // namespace postcore::volume
