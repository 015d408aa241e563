#include "queue/volume/volume_meta.h"

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/volume/small_file.h"

namespace postcore::volume {
namespace {

constexpr std::string_view kMetaMagic = "postcore-volume 1";

}  // namespace

Result<VolumeMeta> parse_volume_meta(std::string_view text) {
  VolumeMeta meta;
  bool have_set = false, have_member = false, have_generation = false;
  size_t line_no = 0;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    line_no++;
    auto bad = [&](const std::string& why) {
      return make_error(EINVAL, fmt::format("{}:{}: {}", kVolumeMetaName, line_no, why));
    };
    if (line_no == 1) {
      if (line != kMetaMagic) return bad("not a postcore volume meta");
      continue;
    }
    if (line.empty()) continue;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("expected \"key value\"");
    std::string_view key = line.substr(0, space), value = line.substr(space + 1);
    auto number = [&](uint64_t* out) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
      return ec == std::errc() && p == value.data() + value.size();
    };
    if (key == "set") {
      if (value.size() != 16 || value.find_first_not_of("0123456789abcdef") != value.npos)
        return bad("set id must be 16 hex digits");
      meta.set_id = std::string(value);
      have_set = true;
    } else if (key == "member") {
      uint64_t m = 0;
      if (!number(&m) || m > 255) return bad("member must be a number up to 255");
      meta.member = static_cast<uint32_t>(m);
      have_member = true;
    } else if (key == "generation") {
      if (!number(&meta.generation) || meta.generation == 0)
        return bad("generation must be a positive number");
      have_generation = true;
    } else {
      return bad("unknown key \"" + printable(key) + "\"");
    }
  }
  if (line_no == 0) return make_error(EINVAL, std::string(kVolumeMetaName) + ":1: empty");
  if (!have_set || !have_member || !have_generation)
    return make_error(EINVAL,
                      std::string(kVolumeMetaName) + ": set, member and generation required");
  return meta;
}

std::string format_volume_meta(const VolumeMeta& meta) {
  return fmt::format("{}\nset {}\nmember {}\ngeneration {}\n", kMetaMagic, meta.set_id, meta.member,
                     meta.generation);
}

}  // namespace postcore::volume
