// volume.meta: what each member of a volume set says about itself, in its root: the set it
// belongs to, its slot, and the generation it holds everything up to.
//
//   postcore-volume 1
//   set 0123456789abcdef
//   member 1
//   generation 7
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::volume {

inline constexpr const char* kVolumeMetaName = "volume.meta";

struct VolumeMeta {
  std::string set_id;  // 16 hex digits, made when the set is first used
  uint32_t member = 0;
  uint64_t generation = 0;
};

// Strict: every key once, nothing unknown; an error names the line.
Result<VolumeMeta> parse_volume_meta(std::string_view text);
std::string format_volume_meta(const VolumeMeta& meta);

}  // namespace postcore::volume
