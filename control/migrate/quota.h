// Mailbox quotas as CommuniGate Pro writes them in account lists: a whole number with an
// optional K, M or G suffix (binary multiples), a plain number meaning kilobytes, or
// "unlimited".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::migrate {

struct Quota {
  uint64_t bytes = 0;
  bool unlimited = false;

  bool operator==(const Quota&) const = default;
};

// `text` must already be trimmed and non-empty. Errors are a bare message (no position):
// the caller knows where the value stands in its file.
Result<Quota> parse_quota(std::string_view text);

}  // namespace postcore::migrate
