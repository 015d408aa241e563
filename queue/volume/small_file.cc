#include "queue/volume/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace postcore::volume {

Result<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(errno, path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return make_error(e, path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 64 * 1024) break;  // a meta is a few dozen bytes
  }
  ::close(fd);
  return out;
}

std::string_view next_line(std::string_view& text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

Result<void> sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(errno, "open directory " + dir + ": " + std::strerror(errno));
  Result<void> result;
  if (::fsync(fd) != 0)
    result = make_error(errno, "fsync directory " + dir + ": " + std::strerror(errno));
  ::close(fd);
  return result;
}

Result<void> create_directories_durably(const std::string& path) {
  std::string parent = path.starts_with('/') ? "/" : ".";
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);  // the whole path once slash is npos
    if (!dir.empty() && dir.back() != '/') {
      if (::mkdir(dir.c_str(), 0750) == 0) {
        if (auto r = sync_directory(parent); !r) return r;
      } else if (errno != EEXIST) {
        return make_error(errno, "mkdir " + dir + ": " + std::strerror(errno));
      }
      parent = dir;
    }
    if (slash == std::string::npos) return {};
  }
}

Result<void> write_file_durably(const std::string& path, const std::string& text) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what) {
    int e = errno;
    return make_error(e, what + ": " + std::strerror(e));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fail(tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = fail(tmp);
      ::close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = fail(tmp);
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path);
  return sync_directory(dir.empty() ? "." : dir);
}

void Pacer::spent(uint64_t bytes) {
  if (rate_ == 0) return;
  total_ += bytes;
  std::this_thread::sleep_until(start_ + std::chrono::microseconds(total_ * 1'000'000 / rate_));
}

}  // namespace postcore::volume
