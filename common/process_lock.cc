#include "common/process_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace postcore {

Result<void> hold_process_lock(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(errno, path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    const int error = errno;
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    pid.erase(std::remove(pid.begin(), pid.end(), '\n'), pid.end());
    ::close(fd);
    return make_error(error, path + ": held by another process (pid " + pid + ")");
  }
  const std::string me = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t w = pwrite(fd, me.data(), me.size(), 0);
  }
  return {};  // the descriptor stays open: the lock lasts as long as the process
}

}  // namespace postcore
