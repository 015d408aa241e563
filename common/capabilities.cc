#include "common/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace postcore {

Result<void> drop_capabilities(std::initializer_list<int> capabilities) {
  for (int cap : capabilities) {
    // EPERM without CAP_SETPCAP: such a process cannot have the capability back anyway
    // once it is out of its permitted set, below.
    if (prctl(PR_CAPBSET_READ, cap) == 1 && prctl(PR_CAPBSET_DROP, cap) < 0 && errno != EPERM)
      return make_error(errno, "dropping capability " + std::to_string(cap) +
                                   " from the bounding set: " + std::strerror(errno));
  }
  // glibc has no wrapper, and libcap would be a dependency for two system calls.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) < 0)
    return make_error(errno, std::string("capget: ") + std::strerror(errno));
  for (int cap : capabilities) {
    const uint32_t bit = 1u << (cap % 32);
    data[cap / 32].effective &= ~bit;
    data[cap / 32].permitted &= ~bit;
    data[cap / 32].inheritable &= ~bit;
  }
  if (syscall(SYS_capset, &header, data) < 0)
    return make_error(errno, std::string("capset: ") + std::strerror(errno));
  return {};
}

}  // namespace postcore
