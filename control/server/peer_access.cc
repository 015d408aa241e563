#include "control/server/peer_access.h"

#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace postcore::control {

std::optional<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  return Peer{cred.pid, cred.uid, cred.gid};
}

bool peer_allowed(const Peer& peer, std::optional<gid_t> admin_group) {
  if (peer.uid == 0 || peer.uid == geteuid()) return true;
  if (!admin_group) return false;
  if (peer.gid == *admin_group) return true;
  std::ifstream status("/proc/" + std::to_string(peer.pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream groups(line.substr(7));
    gid_t g;
    while (groups >> g)
      if (g == *admin_group) return true;
  }
  return false;
}

std::optional<gid_t> group_id(const std::string& name) {
  group gr{};
  group* found = nullptr;
  char buf[4096];
  if (getgrnam_r(name.c_str(), &gr, buf, sizeof(buf), &found) != 0 || !found) return std::nullopt;
  return found->gr_gid;
}

}  // namespace postcore::control
