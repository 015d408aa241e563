#include "control/directory/snapshot_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "control/directory/snapshot_codec.h"

namespace postcore::directory {
namespace {

Error os_error(int code, const std::string& path, const char* what) {
  return make_error(code, path + ": " + what + ": " + std::strerror(code));
}

// Closes on every path out, so that an error return never leaks a descriptor.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close(2) can report a write-back error; the caller wants to see it.
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

int open_retrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Result<void> write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(errno, path, "write");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Reads up to `limit` bytes from offset 0, stopping early only at end of file.
Result<std::string> read_up_to(int fd, size_t limit, const std::string& path) {
  std::string out(limit, '\0');
  size_t have = 0;
  while (have < limit) {
    ssize_t n = ::pread(fd, out.data() + have, limit - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(errno, path, "read");
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  out.resize(have);
  return out;
}

Result<void> write_temp(const std::string& temp, std::string_view image) {
  FileDescriptor fd(open_retrying(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return os_error(errno, temp, "open");
  if (Result<void> w = write_all(fd.get(), image, temp); !w.ok()) return w;
  if (::fdatasync(fd.get()) != 0) return os_error(errno, temp, "fdatasync");
  if (fd.release_and_close() != 0) return os_error(errno, temp, "close");
  return {};
}

}  // namespace

Result<void> publish_snapshot(const std::string& dir, const DirectoryData& data) {
  const std::string temp = dir + "/" + kSnapshotTempName;
  const std::string final_path = dir + "/" + kSnapshotFileName;
  if (Result<void> w = write_temp(temp, encode_snapshot(data)); !w.ok()) {
    ::unlink(temp.c_str());
    return w;
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    int code = errno;
    ::unlink(temp.c_str());
    return os_error(code, final_path, "rename");
  }
  // Without this the rename itself may not survive a power cut.
  FileDescriptor dir_fd(open_retrying(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return os_error(errno, dir, "open");
  if (::fsync(dir_fd.get()) != 0) return os_error(errno, dir, "fsync");
  return {};
}

Result<DirectoryData> load_snapshot(const std::string& dir) {
  const std::string path = dir + "/" + kSnapshotFileName;
  FileDescriptor fd(open_retrying(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return os_error(errno, path, "open");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return os_error(errno, path, "fstat");
  Result<std::string> image = read_up_to(fd.get(), static_cast<size_t>(st.st_size), path);
  if (!image.ok()) return image.error();
  Result<DirectoryData> data = decode_snapshot(*image);
  if (!data.ok()) return make_error(data.error().code, path + ": " + data.error().message);
  return data;
}

Result<SnapshotStamp> snapshot_stamp(const std::string& dir) {
  const std::string path = dir + "/" + kSnapshotFileName;
  FileDescriptor fd(open_retrying(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return os_error(errno, path, "open");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return os_error(errno, path, "fstat");
  Result<std::string> header = read_up_to(fd.get(), kSnapshotHeaderSize, path);
  if (!header.ok()) return header.error();
  Result<SnapshotHeader> h = decode_snapshot_header(*header);
  if (!h.ok()) return make_error(h.error().code, path + ": " + h.error().message);
  SnapshotStamp stamp;
  stamp.device = static_cast<uint64_t>(st.st_dev);
  stamp.inode = static_cast<uint64_t>(st.st_ino);
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  stamp.data_version = h->data_version;
  return stamp;
}

}  // namespace postcore::directory
