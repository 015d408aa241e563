#include "queue/volume/fake_file_io.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace postcore::volume {
namespace {

std::string normalize(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Error io_error(int code, std::string_view what, const std::string& subject) {
  return make_error(code, std::string(what) + " " + subject + ": " + std::strerror(code));
}

}  // namespace

FakeFileIo::FakeFileIo() : dirs_{".", "/"}, durable_dirs_{".", "/"} {}

void FakeFileIo::inject(Fault fault, int times, std::string path_contains) {
  faults_.push_back(ArmedFault{fault, times, std::move(path_contains)});
}

bool FakeFileIo::take_fault(Fault fault, const std::string& path) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->fault != fault || path.find(it->path_contains) == std::string::npos) continue;
    if (--it->remaining <= 0) faults_.erase(it);
    return true;
  }
  return false;
}

FakeFileIo::Descriptor* FakeFileIo::descriptor(int fd) {
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : &it->second;
}

Result<int> FakeFileIo::open(const std::string& raw_path, int flags, mode_t) {
  std::string path = normalize(raw_path);
  counters_.opens++;
  if (take_fault(Fault::fail_open, path)) return io_error(EIO, "open", path);
  if (!dirs_.count(parent_of(path))) return io_error(ENOENT, "open", path);
  if (dirs_.count(path)) return io_error(EISDIR, "open", path);
  auto it = names_.find(path);
  if (it != names_.end() && (flags & O_CREAT) && (flags & O_EXCL)) {
    return io_error(EEXIST, "open", path);
  }
  if (it == names_.end()) {
    if (!(flags & O_CREAT)) return io_error(ENOENT, "open", path);
    it = names_.emplace(path, std::make_shared<File>()).first;
  }
  bool writable = (flags & O_ACCMODE) != O_RDONLY;
  if ((flags & O_TRUNC) && writable) it->second->data.clear();
  int fd = next_fd_++;
  fds_.emplace(fd, Descriptor{it->second, path, writable});
  return fd;
}

Result<void> FakeFileIo::close(int fd) {
  if (fds_.erase(fd) == 0) return io_error(EBADF, "close", std::to_string(fd));
  return {};
}

Result<uint64_t> FakeFileIo::size(int fd) {
  Descriptor* d = descriptor(fd);
  if (!d) return io_error(EBADF, "size", std::to_string(fd));
  return static_cast<uint64_t>(d->file->data.size());
}

Result<size_t> FakeFileIo::read(int fd, uint64_t offset, void* buf, size_t len) {
  Descriptor* d = descriptor(fd);
  if (!d) return io_error(EBADF, "read", std::to_string(fd));
  counters_.reads++;
  if (take_fault(Fault::eio_on_read, d->path)) return io_error(EIO, "read", d->path);
  const std::string& data = d->file->data;
  if (offset >= data.size()) return size_t{0};
  size_t n = std::min<uint64_t>(len, data.size() - offset);
  if (take_fault(Fault::short_read, d->path)) n /= 2;
  std::memcpy(buf, data.data() + offset, n);
  return n;
}

Result<void> FakeFileIo::write_at(int fd, uint64_t offset, const void* data, size_t len) {
  Descriptor* d = descriptor(fd);
  if (!d || !d->writable) return io_error(EBADF, "write", std::to_string(fd));
  counters_.writes++;
  if (take_fault(Fault::enospc_on_write, d->path)) return io_error(ENOSPC, "write", d->path);
  if (take_fault(Fault::eio_on_write, d->path)) return io_error(EIO, "write", d->path);
  File& file = *d->file;
  if (file.data.size() < offset + len) file.data.resize(offset + len);
  std::memcpy(file.data.data() + offset, data, len);
  return {};
}

Result<void> FakeFileIo::truncate(int fd, uint64_t len) {
  Descriptor* d = descriptor(fd);
  if (!d || !d->writable) return io_error(EBADF, "truncate", std::to_string(fd));
  d->file->data.resize(len);
  return {};
}

Result<void> FakeFileIo::sync(int fd) {
  Descriptor* d = descriptor(fd);
  if (!d) return io_error(EBADF, "sync", std::to_string(fd));
  if (take_fault(Fault::eio_on_sync, d->path)) return io_error(EIO, "fdatasync", d->path);
  counters_.syncs++;
  d->file->durable = d->file->data;
  return {};
}

Result<void> FakeFileIo::mkdir(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  if (dirs_.count(path)) return {};
  if (names_.count(path)) return io_error(EEXIST, "mkdir", path);
  if (!dirs_.count(parent_of(path))) return io_error(ENOENT, "mkdir", path);
  dirs_.insert(path);
  return {};
}

Result<void> FakeFileIo::sync_dir(const std::string& raw_path) {
  std::string dir = normalize(raw_path);
  if (!dirs_.count(dir)) return io_error(ENOENT, "sync_dir", dir);
  counters_.sync_dirs++;
  for (const std::string& sub : dirs_)
    if (sub != dir && parent_of(sub) == dir) durable_dirs_.insert(sub);
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    if (parent_of(it->first) == dir && !names_.count(it->first)) {
      it = durable_names_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [path, file] : names_) {
    if (parent_of(path) == dir) durable_names_[path] = file;
  }
  return {};
}

Result<void> FakeFileIo::rename(const std::string& raw_from, const std::string& raw_to) {
  std::string from = normalize(raw_from);
  std::string to = normalize(raw_to);
  if (take_fault(Fault::fail_rename, from)) return io_error(EIO, "rename", from);
  auto it = names_.find(from);
  if (it == names_.end()) return io_error(ENOENT, "rename", from);
  if (!dirs_.count(parent_of(to))) return io_error(ENOENT, "rename", to);
  auto file = it->second;
  names_.erase(it);
  names_[to] = std::move(file);
  return {};
}

Result<void> FakeFileIo::unlink(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  if (names_.erase(path) == 0) return io_error(ENOENT, "unlink", path);
  return {};
}

Result<std::vector<std::string>> FakeFileIo::list_dir(const std::string& raw_path) {
  std::string dir = normalize(raw_path);
  if (!dirs_.count(dir)) return io_error(ENOENT, "list_dir", dir);
  std::vector<std::string> out;
  for (const auto& [path, file] : names_) {
    if (parent_of(path) == dir) out.push_back(base_of(path));
  }
  for (const auto& sub : dirs_) {
    if (sub != dir && parent_of(sub) == dir) out.push_back(base_of(sub));
  }
  return out;
}

void FakeFileIo::write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) {
  queue_.push_back(Op{true, fd, offset, data, len, std::move(done)});
}

void FakeFileIo::datasync(int fd, IoCallback done) {
  queue_.push_back(Op{false, fd, 0, nullptr, 0, std::move(done)});
}

int FakeFileIo::perform(const Op& op) {
  Descriptor* d = descriptor(op.fd);
  if (!d) return -EBADF;
  File& file = *d->file;
  if (!op.is_write) {
    if (take_fault(Fault::eio_on_datasync, d->path)) return -EIO;
    counters_.datasyncs++;
    file.durable = file.data;
    return 0;
  }
  if (!d->writable) return -EBADF;
  counters_.writes++;
  if (take_fault(Fault::enospc_on_write, d->path)) return -ENOSPC;
  if (take_fault(Fault::eio_on_write, d->path)) return -EIO;
  if (take_fault(Fault::erofs_on_write, d->path)) return -EROFS;
  size_t len = take_fault(Fault::short_write, d->path) ? op.len / 2 : op.len;
  if (file.data.size() < op.offset + len) file.data.resize(op.offset + len);
  std::memcpy(file.data.data() + op.offset, op.data, len);
  return static_cast<int>(len);
}

bool FakeFileIo::run_one() {
  if (queue_.empty()) return false;
  Op op = std::move(queue_.front());
  queue_.pop_front();
  if (Descriptor* d = descriptor(op.fd); d && take_fault(Fault::hang, d->path))
    return true;  // never performed, never answered
  int result = perform(op);
  op.done(result);
  return true;
}

size_t FakeFileIo::run_pending() {
  size_t ran = 0;
  while (run_one()) ran++;
  return ran;
}

// What a power cut leaves of the names: directories whose own name, and every one above
// it, was synced into its parent; files whose name was, inside such a directory.
void FakeFileIo::keep_durable_names() {
  std::set<std::string> kept{".", "/"};
  // Sorted: a directory comes after the one it is in.
  for (const std::string& dir : durable_dirs_)
    if (kept.count(parent_of(dir))) kept.insert(dir);
  dirs_ = durable_dirs_ = kept;
  std::erase_if(durable_names_,
                [&](const auto& entry) { return !kept.count(parent_of(entry.first)); });
  names_ = durable_names_;
}

void FakeFileIo::crash() {
  queue_.clear();
  fds_.clear();
  keep_durable_names();
  for (auto& [path, file] : names_) file->data = file->durable;
}

void FakeFileIo::crash_torn(uint64_t seed) {
  constexpr size_t kSector = 512;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  queue_.clear();
  fds_.clear();
  keep_durable_names();
  for (auto& [path, file] : names_) {
    const std::string& durable = file->durable;
    std::string& data = file->data;
    if (data.size() <= durable.size() || data.compare(0, durable.size(), durable) != 0) {
      data = durable;
      continue;
    }
    data.resize(durable.size() + next() % (data.size() - durable.size() + 1));
    for (size_t at = durable.size(); at < data.size(); at += kSector) {
      if (next() % 3 == 0) {
        std::fill(data.begin() + at, data.begin() + std::min(at + kSector, data.size()), '\0');
      }
    }
    file->durable = data;
  }
}

bool FakeFileIo::exists(const std::string& path) const {
  return names_.count(normalize(path)) > 0;
}

std::string FakeFileIo::contents(const std::string& path) const {
  auto it = names_.find(normalize(path));
  return it == names_.end() ? std::string() : it->second->data;
}

std::string FakeFileIo::durable_contents(const std::string& path) const {
  auto it = durable_names_.find(normalize(path));
  return it == durable_names_.end() ? std::string() : it->second->durable;
}

void FakeFileIo::put_file(const std::string& raw_path, std::string data) {
  std::string path = normalize(raw_path);
  auto file = std::make_shared<File>();
  file->data = data;
  file->durable = std::move(data);
  names_[path] = file;
  durable_names_[path] = file;
}

void FakeFileIo::put_directories(const std::string& raw_path) {
  const std::string path = normalize(raw_path);
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    dirs_.insert(dir);
    durable_dirs_.insert(dir);
    if (slash == std::string::npos) return;
  }
}

void FakeFileIo::flip_bit(const std::string& raw_path, uint64_t offset, int bit) {
  std::string path = normalize(raw_path);
  auto it = names_.find(path);
  if (it == names_.end()) return;
  File& file = *it->second;
  if (offset < file.data.size()) file.data[offset] ^= static_cast<char>(1 << bit);
  if (offset < file.durable.size()) file.durable[offset] ^= static_cast<char>(1 << bit);
}

void FakeFileIo::remove_file(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  names_.erase(path);
  durable_names_.erase(path);
}

}  // namespace postcore::volume
