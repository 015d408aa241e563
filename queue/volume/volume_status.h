// The state of a volume set's members as text: the status file the dataplane keeps
// (DATA/volume.status, and what it sends the control plane with each volume.next), and the
// same in Prometheus' text format beside it (DATA/volume.prom).
//
//   set SETID generation N
//   member INDEX STATE GENERATION ERRORS REPAIRED ROOT<TAB>REASON     (one per member)
//   scrub STATE / resilver STATE                                       (once one ran)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace postcore::volume {

enum class MemberState : uint8_t {
  healthy,
  degraded,     // dropped out while running (I/O error, full, read-only, vanished)
  stale,        // found at start with an older generation, or new: holds nothing to trust
  resilvering,  // being rebuilt from the others: takes every write, serves no read
  absent,       // a free slot: never a member, or removed
};

// A set has at most this many members; size() is this, and unused slots are `absent`.
inline constexpr size_t kMaxVolumeMembers = 8;
std::string_view to_string(MemberState state);

struct MemberStatus {
  size_t index = 0;  // the member's slot
  std::string root;
  MemberState state = MemberState::healthy;
  uint64_t generation = 0;  // what its volume.meta says
  uint64_t errors = 0;      // I/O errors seen on it
  uint64_t repaired = 0;    // reads that failed their check here and were mended
  std::string reason;       // why it is not healthy
};

// The status text of a set (absent members left out).
std::string format_volume_status(const std::string& set_id, uint64_t generation,
                                 const std::vector<MemberStatus>& members,
                                 const std::map<std::string, std::string>& activities);
// Reads what format_volume_status wrote, strictly: an unknown state or a malformed member
// line is an error naming the line. `activities`, if given, receives the scrub and
// resilver lines' states by name.
Result<std::vector<MemberStatus>> parse_volume_status(
    std::string_view text, std::map<std::string, std::string>* activities = nullptr);

// The same in Prometheus' text format, each series labelled with the set's directory.
std::string format_volume_metrics(const std::string& set, uint64_t generation,
                                  const std::vector<MemberStatus>& members);
// Where the metrics beside a status file go: "volume.status" gives "volume.prom".
std::string metrics_path_for(const std::string& status_path);

}  // namespace postcore::volume
