#include "tests/unit/netcfg/private_network.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace postcore::netcfg::testing {
namespace {

constexpr char kSkipPrefix[] = "skip: ";

}  // namespace

std::string in_private_network(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::fflush(nullptr);  // or the child's exit could repeat buffered output
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    alarm(10);  // a hang in the child fails the test instead of stalling it
    std::string report;
    if (unshare(CLONE_NEWNET) != 0) {
      const int error = errno;
      report = std::string(error == EPERM ? kSkipPrefix : "") +
               "unshare(CLONE_NEWNET): " + std::strerror(error);
    } else {
      report = body();
    }
    const bool written =
        write(fds[1], report.data(), report.size()) == static_cast<ssize_t>(report.size());
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  if (child < 0) {
    close(fds[0]);
    return std::string("fork: ") + std::strerror(errno);
  }
  std::string report;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    report.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child failed (status " + std::to_string(status) + "): " + report;
  return report;
}

bool skipped(const std::string& report) {
  return report.rfind(kSkipPrefix, 0) == 0;
}

}  // namespace postcore::netcfg::testing
