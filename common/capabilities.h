// Giving up Linux capabilities a process must never use. The dataplane faces the network
// and parses hostile input: it drops CAP_NET_ADMIN and CAP_NET_RAW, which only the control
// plane needs (IP aliases, neighbour announcements), so a compromised reactor cannot
// reconfigure the machine's network.
#pragma once

#include <initializer_list>

#include "common/result.h"

namespace postcore {

// Removes each capability (CAP_* numbers) from the bounding set and from the effective,
// permitted and inheritable sets of the calling process; for good, across exec too. A
// process that never had them (not root) succeeds with nothing to do.
Result<void> drop_capabilities(std::initializer_list<int> capabilities);

}  // namespace postcore
