// Which local addresses carry established TCP sessions to a port (SSH's, for the lockout
// guard of `postcorectl ip remove`), as the kernel lists them in /proc/net/tcp and tcp6
// of the caller's network namespace.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace postcore::netcfg {

// The local addresses ("192.0.2.25", "2001:db8::25") of established sessions whose local
// port is `port`, without duplicates.
Result<std::vector<std::string>> established_to_port(uint16_t port);

// The same from the text of /proc/net/tcp (`v6` false) or /proc/net/tcp6, for tests.
std::vector<std::string> parse_established(std::string_view table, bool v6, uint16_t port);

}  // namespace postcore::netcfg
