// One process of a kind per data directory: an exclusive flock on a lock file, held until
// the process exits (the descriptor is never closed, and O_CLOEXEC keeps it from children).
// The holder's pid is written into the file, so a refusal can name it.
#pragma once

#include <string>

#include "common/result.h"

namespace postcore {

// Takes the lock at `path` (created if missing). Error EWOULDBLOCK, naming the holder's
// pid, when another process holds it; the open's errno when the file cannot be opened.
Result<void> hold_process_lock(const std::string& path);

}  // namespace postcore
