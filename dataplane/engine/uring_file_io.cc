#include "dataplane/engine/uring_file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postcore::engine {
namespace {

Error sys_error(const std::string& what) {
  int err = errno;
  return make_error(err, what + ": " + std::strerror(err));
}

}  // namespace

struct UringFileIo::Op final : Completion {
  UringFileIo* owner = nullptr;
  volume::IoCallback done;
  void complete(int res, uint32_t) override {
    volume::IoCallback cb = std::move(done);
    done = nullptr;
    owner->give_back(this);
    cb(res);
  }
};

UringFileIo::UringFileIo(Reactor& reactor) : reactor_(reactor) {}

UringFileIo::~UringFileIo() = default;

UringFileIo::Op* UringFileIo::take_op(volume::IoCallback done) {
  Op* op;
  if (free_ops_.empty()) {
    all_ops_.push_back(std::make_unique<Op>());
    op = all_ops_.back().get();
    op->owner = this;
  } else {
    op = free_ops_.back();
    free_ops_.pop_back();
  }
  op->done = std::move(done);
  ++in_flight_;
  return op;
}

void UringFileIo::give_back(Op* op) {
  --in_flight_;
  free_ops_.push_back(op);
}

void UringFileIo::write(int fd, uint64_t offset, const void* data, size_t len,
                        volume::IoCallback done) {
  io_uring_sqe* s = reactor_.sqe_for(take_op(std::move(done)));
  io_uring_prep_write(s, fd, data, static_cast<unsigned>(len), offset);
}

void UringFileIo::datasync(int fd, volume::IoCallback done) {
  io_uring_sqe* s = reactor_.sqe_for(take_op(std::move(done)));
  io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
}

Result<int> UringFileIo::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open " + path);
  return fd;
}

Result<void> UringFileIo::close(int fd) {
  if (::close(fd) < 0) return sys_error("close");
  return {};
}

Result<uint64_t> UringFileIo::size(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return sys_error("fstat");
  return static_cast<uint64_t>(st.st_size);
}

Result<size_t> UringFileIo::read(int fd, uint64_t offset, void* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("pread");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<void> UringFileIo::truncate(int fd, uint64_t len) {
  if (::ftruncate(fd, static_cast<off_t>(len)) < 0) return sys_error("ftruncate");
  return {};
}

Result<void> UringFileIo::sync(int fd) {
  if (::fdatasync(fd) < 0) return sys_error("fdatasync");
  return {};
}

Result<void> UringFileIo::mkdir(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) < 0 && errno != EEXIST) return sys_error("mkdir " + path);
  return {};
}

Result<void> UringFileIo::sync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc < 0) return make_error(err, "fsync " + path + ": " + std::strerror(err));
  return {};
}

Result<void> UringFileIo::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) < 0) return sys_error("rename " + from);
  return {};
}

Result<void> UringFileIo::unlink(const std::string& path) {
  if (::unlink(path.c_str()) < 0) return sys_error("unlink " + path);
  return {};
}

Result<std::vector<std::string>> UringFileIo::list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return sys_error("opendir " + path);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

}  // namespace postcore::engine
