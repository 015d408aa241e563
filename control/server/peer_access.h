// Who may use the admin API: root, the appliance's own user (the dataplane reports
// rehashed passwords) and members of the `postcore` group. The kernel
// vouches for the peer (SO_PEERCRED); supplementary groups come from /proc, which the
// peer cannot forge either.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace postcore::control {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<Peer> peer_of(int fd);

// True when `peer` is root, runs as this process's user, or is in `admin_group` (primary or
// supplementary).
bool peer_allowed(const Peer& peer, std::optional<gid_t> admin_group);

// The gid of the named group, if it exists on this system.
std::optional<gid_t> group_id(const std::string& name);

}  // namespace postcore::control
