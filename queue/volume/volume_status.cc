#include "queue/volume/volume_status.h"

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/volume/small_file.h"

namespace postcore::volume {
std::string_view to_string(MemberState state) {
  switch (state) {
    case MemberState::healthy:
      return "healthy";
    case MemberState::degraded:
      return "degraded";
    case MemberState::stale:
      return "stale";
    case MemberState::resilvering:
      return "resilvering";
    case MemberState::absent:
      return "absent";
  }
  return "?";
}

std::string format_volume_status(const std::string& set_id, uint64_t generation,
                                 const std::vector<MemberStatus>& members,
                                 const std::map<std::string, std::string>& activities) {
  std::string out = fmt::format("set {} generation {}\n", set_id, generation);
  for (const MemberStatus& m : members) {
    if (m.state == MemberState::absent) continue;
    out += fmt::format("member {} {} {} {} {} {}\t{}\n", m.index, to_string(m.state), m.generation,
                       m.errors, m.repaired, m.root, printable(m.reason));
  }
  for (const auto& [name, state] : activities) out += name + " " + printable(state) + "\n";
  return out;
}

Result<std::vector<MemberStatus>> parse_volume_status(
    std::string_view text, std::map<std::string, std::string>* activities) {
  std::vector<MemberStatus> out;
  size_t line_no = 0;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    line_no++;
    for (const char* name : {"scrub", "resilver"}) {
      std::string_view prefix(name);
      if (activities && line.starts_with(prefix) && line.size() > prefix.size() &&
          line[prefix.size()] == ' ')
        (*activities)[name] = std::string(line.substr(prefix.size() + 1));
    }
    if (!line.starts_with("member ")) continue;
    // member INDEX STATE GENERATION ERRORS REPAIRED ROOT\tREASON
    size_t tab = line.find('\t');
    std::string_view head = line.substr(0, tab);
    MemberStatus m;
    if (tab != std::string_view::npos) m.reason = std::string(line.substr(tab + 1));
    std::vector<std::string_view> fields;
    for (size_t i = 0; i < 6 && !head.empty(); i++) {
      size_t space = head.find(' ');
      fields.push_back(head.substr(0, space));
      head.remove_prefix(space == std::string_view::npos ? head.size() : space + 1);
    }
    if (fields.size() != 6 || head.empty())
      return make_error(EINVAL, fmt::format("volume.status:{}: malformed member line", line_no));
    m.root = std::string(head);
    if (fields[2] == "healthy")
      m.state = MemberState::healthy;
    else if (fields[2] == "degraded")
      m.state = MemberState::degraded;
    else if (fields[2] == "stale")
      m.state = MemberState::stale;
    else if (fields[2] == "resilvering")
      m.state = MemberState::resilvering;
    else
      return make_error(EINVAL, fmt::format("volume.status:{}: unknown state", line_no));
    auto number = [](std::string_view v, uint64_t* n) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *n);
      return ec == std::errc() && p == v.data() + v.size();
    };
    uint64_t index = 0;
    if (!number(fields[1], &index) || !number(fields[3], &m.generation) ||
        !number(fields[4], &m.errors) || !number(fields[5], &m.repaired))
      return make_error(EINVAL, fmt::format("volume.status:{}: bad number", line_no));
    m.index = static_cast<size_t>(index);
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// A label value in Prometheus' text format.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string format_volume_metrics(const std::string& set_name, uint64_t generation,
                                  const std::vector<MemberStatus>& statuses) {
  const std::string set = label_value(set_name);
  size_t healthy = 0;
  for (const MemberStatus& m : statuses) healthy += m.state == MemberState::healthy;
  std::string out = fmt::format(
      "# HELP postcore_volume_generation Generation of the set's trusted members.\n"
      "# TYPE postcore_volume_generation gauge\n"
      "postcore_volume_generation{{set=\"{0}\"}} {1}\n"
      "# HELP postcore_volume_members_healthy Members of the set that are healthy.\n"
      "# TYPE postcore_volume_members_healthy gauge\n"
      "postcore_volume_members_healthy{{set=\"{0}\"}} {2}\n",
      set, generation, healthy);
  std::vector<std::pair<const MemberStatus*, std::string>> members;  // with their labels
  for (const MemberStatus& m : statuses)
    if (m.state != MemberState::absent)
      members.emplace_back(&m, fmt::format("set=\"{}\",member=\"{}\"", set, label_value(m.root)));
  out +=
      "# HELP postcore_volume_member_state 1 for the state the member is in, else 0.\n"
      "# TYPE postcore_volume_member_state gauge\n";
  for (const auto& [m, labels] : members)
    for (MemberState state : {MemberState::healthy, MemberState::degraded, MemberState::stale,
                              MemberState::resilvering})
      out += fmt::format("postcore_volume_member_state{{{},state=\"{}\"}} {}\n", labels,
                         to_string(state), m->state == state ? 1 : 0);
  out +=
      "# HELP postcore_volume_member_errors_total I/O errors seen on the member.\n"
      "# TYPE postcore_volume_member_errors_total counter\n";
  for (const auto& [m, labels] : members)
    out += fmt::format("postcore_volume_member_errors_total{{{}}} {}\n", labels, m->errors);
  out +=
      "# HELP postcore_volume_member_repaired_total Reads that failed their check on the "
      "member and were mended.\n"
      "# TYPE postcore_volume_member_repaired_total counter\n";
  for (const auto& [m, labels] : members)
    out += fmt::format("postcore_volume_member_repaired_total{{{}}} {}\n", labels, m->repaired);
  return out;
}

std::string metrics_path_for(const std::string& status_path) {
  std::string_view base = status_path;
  if (base.ends_with(".status")) base.remove_suffix(7);
  return std::string(base) + ".prom";
}

}  // namespace postcore::volume
