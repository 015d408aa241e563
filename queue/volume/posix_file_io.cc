#include "queue/volume/posix_file_io.h"
#include "queue/volume/small_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postcore::volume {
namespace {

Error errno_error(std::string_view what, const std::string& subject) {
  int code = errno;
  return make_error(code, std::string(what) + " " + subject + ": " + std::strerror(code));
}

std::string fd_name(int fd) {
  return "fd " + std::to_string(fd);
}

}  // namespace

Result<int> SyscallFileIo::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("open", path);
  return fd;
}

Result<void> SyscallFileIo::close(int fd) {
  if (::close(fd) != 0) return errno_error("close", fd_name(fd));
  return {};
}

Result<uint64_t> SyscallFileIo::size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_error("fstat", fd_name(fd));
  return static_cast<uint64_t>(st.st_size);
}

Result<size_t> SyscallFileIo::read(int fd, uint64_t offset, void* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("pread", fd_name(fd));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<void> SyscallFileIo::write_at(int fd, uint64_t offset, const void* data, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pwrite(fd, static_cast<const char*>(data) + done, len - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("pwrite", fd_name(fd));
    }
    if (n == 0) return make_error(EIO, "pwrite " + fd_name(fd) + ": wrote nothing");
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> SyscallFileIo::truncate(int fd, uint64_t len) {
  if (::ftruncate(fd, static_cast<off_t>(len)) != 0) return errno_error("ftruncate", fd_name(fd));
  return {};
}

Result<void> SyscallFileIo::sync(int fd) {
  if (::fdatasync(fd) != 0) return errno_error("fdatasync", fd_name(fd));
  return {};
}

Result<void> SyscallFileIo::mkdir(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) return errno_error("mkdir", path);
  return {};
}

Result<void> SyscallFileIo::sync_dir(const std::string& path) {
  return sync_directory(path);
}

Result<void> SyscallFileIo::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return errno_error("rename", from + " -> " + to);
  return {};
}

Result<void> SyscallFileIo::unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return errno_error("unlink", path);
  return {};
}

Result<std::vector<std::string>> SyscallFileIo::list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return errno_error("opendir", path);
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

void PosixFileIo::write(int fd, uint64_t offset, const void* data, size_t len, IoCallback done) {
  queue_.push_back(Op{true, fd, offset, data, len, std::move(done)});
}

void PosixFileIo::datasync(int fd, IoCallback done) {
  queue_.push_back(Op{false, fd, 0, nullptr, 0, std::move(done)});
}

size_t PosixFileIo::run_pending() {
  size_t ran = 0;
  while (!queue_.empty()) {
    Op op = std::move(queue_.front());
    queue_.pop_front();
    int result = 0;
    if (op.is_write) {
      size_t written = 0;
      int error = EIO;
      while (written < op.len) {
        ssize_t n = ::pwrite(op.fd, static_cast<const char*>(op.data) + written, op.len - written,
                             static_cast<off_t>(op.offset + written));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = errno;
        if (n <= 0) break;
        written += static_cast<size_t>(n);
      }
      // Like io_uring: a short count if anything was written, else the error.
      result = written > 0 || op.len == 0 ? static_cast<int>(written) : -error;
    } else {
      result = ::fdatasync(op.fd) == 0 ? 0 : -errno;
    }
    op.done(result);
    ran++;
  }
  return ran;
}

}  // namespace postcore::volume
