#include "queue/volume/volume_set.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/volume/small_file.h"

namespace postcore::volume {
namespace {

constexpr const char* kMetaName = "volume.meta";
constexpr std::string_view kMetaMagic = "postcore-volume 1";

// The next line of `text` (without its '\n'), taken off the front.
std::string_view next_line(std::string_view& text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

Result<std::string> new_set_id() {
  unsigned char bytes[8];
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
    return make_error(errno, "no randomness for a volume set id");
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

}  // namespace

size_t VolumeSet::present_count() const {
  size_t n = 0;
  for (const Member& m : members_) n += m.state != MemberState::absent;
  return n;
}

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

Result<VolumeSet::Meta> VolumeSet::parse_meta(std::string_view text) {
  Meta meta;
  bool have_set = false, have_member = false, have_generation = false;
  size_t line_no = 0;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    line_no++;
    auto bad = [&](const std::string& why) {
      return make_error(EINVAL, fmt::format("{}:{}: {}", kMetaName, line_no, why));
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
  if (line_no == 0) return make_error(EINVAL, std::string(kMetaName) + ":1: empty");
  if (!have_set || !have_member || !have_generation)
    return make_error(EINVAL, std::string(kMetaName) + ": set, member and generation required");
  return meta;
}

Result<std::vector<MemberStatus>> VolumeSet::parse_status(
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

std::string VolumeSet::format_meta(const Meta& meta) {
  return fmt::format("{}\nset {}\nmember {}\ngeneration {}\n", kMetaMagic, meta.set_id, meta.member,
                     meta.generation);
}

VolumeSet::VolumeSet(std::string logical_root, std::vector<std::string> roots,
                     std::string status_path)
    : logical_root_(std::move(logical_root)), status_path_(std::move(status_path)) {
  for (size_t i = 0; i < kMaxVolumeMembers; i++) members_.emplace_back();
  for (size_t i = 0; i < roots.size(); i++) members_[i].root = std::move(roots[i]);
  for (size_t i = roots.size(); i < kMaxVolumeMembers; i++) members_[i].state = MemberState::absent;
}

Result<std::shared_ptr<VolumeSet>> VolumeSet::open(std::string logical_root,
                                                   std::vector<std::string> member_roots,
                                                   std::string status_path) {
  if (member_roots.empty()) return make_error(EINVAL, "a volume set needs at least one member");
  if (member_roots.size() > kMaxVolumeMembers)
    return make_error(EINVAL,
                      fmt::format("a volume set has at most {} members", kMaxVolumeMembers));
  std::shared_ptr<VolumeSet> set(
      new VolumeSet(std::move(logical_root), std::move(member_roots), std::move(status_path)));
  std::lock_guard lock(set->mutex_);
  std::vector<std::optional<Meta>> metas(set->members_.size());
  for (size_t i = 0; i < set->members_.size(); i++) {
    Member& m = set->members_[i];
    if (m.state == MemberState::absent) continue;
    if (auto made = create_directories_durably(m.root); !made) {
      m.state = MemberState::stale;
      m.reason = "cannot create " + m.root + ": " + made.error().message;
      continue;
    }
    auto text = read_small_file(m.root + "/" + kMetaName);
    if (!text) {
      if (text.error().code != ENOENT) {
        m.state = MemberState::stale;
        m.reason = text.error().message;
      }
      continue;
    }
    auto meta = parse_meta(*text);
    if (!meta) {
      m.state = MemberState::stale;
      m.reason = m.root + "/" + meta.error().message;
      continue;
    }
    metas[i] = *meta;
  }
  // The set is what its newest member says; members of another set are not ours.
  const Meta* newest = nullptr;
  for (const auto& meta : metas)
    if (meta && (!newest || meta->generation > newest->generation)) newest = &*meta;
  if (!newest) {
    auto id = new_set_id();
    if (!id) return id.error();
    set->set_id_ = *id;
    set->generation_ = 1;
    for (size_t i = 0; i < set->members_.size(); i++) {
      Member& m = set->members_[i];
      if (m.state != MemberState::healthy) continue;
      if (auto r = set->write_meta(i, 1); !r) {
        m.state = MemberState::stale;
        m.reason = r.error().message;
      }
    }
  } else {
    set->set_id_ = newest->set_id;
    set->generation_ = newest->generation;
    for (size_t i = 0; i < set->members_.size(); i++) {
      Member& m = set->members_[i];
      if (m.state != MemberState::healthy) continue;
      if (!metas[i]) {
        m.state = MemberState::stale;
        m.reason = "new member: holds nothing yet";
      } else if (metas[i]->set_id != set->set_id_) {
        m.state = MemberState::stale;
        m.reason = "belongs to another volume set (" + metas[i]->set_id + ")";
      } else if (metas[i]->generation < set->generation_) {
        m.state = MemberState::stale;
        m.generation = metas[i]->generation;
        m.reason = fmt::format("generation {} is older than the set's {}: it missed writes",
                               metas[i]->generation, set->generation_);
      } else {
        m.generation = metas[i]->generation;
      }
    }
  }
  size_t healthy = 0;
  for (Member& m : set->members_) {
    if (m.state == MemberState::absent) continue;
    bool ok = m.state == MemberState::healthy;
    m.healthy.store(ok, std::memory_order_release);
    m.writable.store(ok, std::memory_order_release);
    if (ok) {
      healthy++;
    } else {
      log::warning("volume", "member {} is not used: {}", m.root, m.reason);
    }
  }
  set->write_status();
  if (healthy == 0) {
    return make_error(EIO, "volume set " + set->logical_root_ +
                               ": no member can be trusted (see the lines above)");
  }
  log::info("volume", "volume set {}: {} of {} members healthy, generation {}", set->logical_root_,
            healthy, set->present_count(), set->generation_);
  return set;
}

size_t VolumeSet::member_count() const {
  std::lock_guard lock(mutex_);
  return present_count();
}

size_t VolumeSet::healthy_count() const {
  size_t n = 0;
  for (const Member& m : members_) n += m.healthy.load(std::memory_order_acquire) ? 1 : 0;
  return n;
}

Result<void> VolumeSet::write_meta(size_t i, uint64_t generation) {
  Member& m = members_[i];
  Meta meta{set_id_, static_cast<uint32_t>(i), generation};
  if (auto r = write_file_durably(m.root + "/" + kMetaName, format_meta(meta)); !r) return r;
  m.generation = generation;
  return {};
}

// Moves every healthy member to generation `next` (default: the one after the set's); a
// member whose meta cannot be written is degraded. The set takes `next` when some member
// holds it. Caller holds mutex_.
void VolumeSet::raise_generation(std::optional<uint64_t> next_generation) {
  const uint64_t next = next_generation.value_or(generation_ + 1);
  for (size_t j = 0; j < members_.size(); j++) {
    Member& other = members_[j];
    if (other.state != MemberState::healthy || other.generation == next) continue;
    if (auto r = write_meta(j, next); !r) {
      other.state = MemberState::degraded;
      other.errors++;
      other.reason = "cannot raise the generation: " + r.error().message;
      other.healthy.store(false, std::memory_order_release);
      other.writable.store(false, std::memory_order_release);
      other.incarnation.fetch_add(1, std::memory_order_acq_rel);
      log::error("volume", "member {} degraded ({})", other.root, other.reason);
      continue;
    }
    generation_ = next;
  }
}

void VolumeSet::fail(size_t i, int error, const std::string& what) {
  std::lock_guard lock(mutex_);
  Member& m = members_[i];
  if (m.state != MemberState::healthy && m.state != MemberState::resilvering) return;
  const bool was_healthy = m.state == MemberState::healthy;
  m.state = MemberState::degraded;
  m.errors++;
  m.reason = what + ": " + std::strerror(error);
  if (was_healthy) {
    // The members still in move to a new generation while this one still takes every
    // write (other cores see it healthy until the stores below), so nothing is
    // acknowledged without it before their metas exclude it: it can never be mistaken for
    // a current copy. (A member being rebuilt was never trusted: no new generation.)
    raise_generation();
  }
  m.healthy.store(false, std::memory_order_release);
  m.writable.store(false, std::memory_order_release);
  m.incarnation.fetch_add(1, std::memory_order_acq_rel);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  if (!was_healthy) {
    log::error("volume", "member {} degraded while resilvering ({})", m.root, m.reason);
    write_status();
    return;
  }
  log::error("volume", "member {} degraded ({}); the set goes on with {} of {} members", m.root,
             m.reason, healthy_count(), present_count());
  if (healthy_count() == 0)
    log::error("volume", "volume set {}: no healthy member left; nothing is acknowledged",
               logical_root_);
  write_status();
}

void VolumeSet::check() {
  for (size_t i = 0; i < members_.size(); i++) {
    if (!writable(i)) continue;
    // A member being rebuilt has no current meta yet: its directory must be there.
    const std::string probe = healthy(i) ? members_[i].root + "/" + kMetaName : members_[i].root;
    struct stat st;
    if (::stat(probe.c_str(), &st) != 0) fail(i, errno, "member directory check (" + probe + ")");
  }
}

std::optional<size_t> VolumeSet::member_index(const std::string& root) const {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < members_.size(); i++)
    if (members_[i].state != MemberState::absent && members_[i].root == root) return i;
  return std::nullopt;
}

Result<size_t> VolumeSet::add_member(const std::string& root) {
  std::lock_guard lock(mutex_);
  std::optional<size_t> slot;
  for (size_t i = 0; i < members_.size(); i++) {
    if (members_[i].state == MemberState::absent) {
      if (!slot) slot = i;
    } else if (members_[i].root == root) {
      return make_error(EEXIST, root + " is a member already");
    }
  }
  if (!slot)
    return make_error(ENOSPC, fmt::format("the set has {} members already", kMaxVolumeMembers));
  if (auto made = create_directories_durably(root); !made) return made.error();
  // Only this thread touches an absent slot's root; the others look at a slot once it is
  // writable, which it becomes later (begin_resilver) with a release store.
  Member& m = members_[*slot];
  m.root = root;
  m.generation = 0;
  m.errors = m.repaired = 0;
  m.state = MemberState::stale;
  m.reason = "added: holds nothing yet";
  log::info("volume", "member {} added to the set", root);
  write_status();
  return *slot;
}

Result<void> VolumeSet::remove_member(size_t i) {
  std::lock_guard lock(mutex_);
  Member& m = members_[i];
  if (m.state == MemberState::absent) return make_error(ENOENT, "no such member");
  if (m.state == MemberState::healthy && healthy_count() == 1)
    return make_error(EBUSY, m.root + " is the last healthy member");
  const bool was_healthy = m.state == MemberState::healthy;
  m.state = MemberState::absent;
  if (was_healthy) {
    // It holds everything until now: the others move on, before it stops taking writes,
    // so it can never pass for current.
    raise_generation();
  }
  m.healthy.store(false, std::memory_order_release);
  m.writable.store(false, std::memory_order_release);
  m.incarnation.fetch_add(1, std::memory_order_acq_rel);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  log::info("volume", "member {} removed from the set", m.root);
  write_status();
  return {};
}

Result<uint64_t> VolumeSet::begin_resilver(size_t i) {
  std::lock_guard lock(mutex_);
  Member& m = members_[i];
  if (m.state == MemberState::healthy || m.state == MemberState::resilvering)
    return make_error(EINVAL, m.root + " is " + std::string(to_string(m.state)));
  if (auto made = create_directories_durably(m.root); !made) return made.error();
  m.state = MemberState::resilvering;
  m.reason = "being rebuilt from the healthy members";
  m.incarnation.fetch_add(1, std::memory_order_acq_rel);
  m.writable.store(true, std::memory_order_release);
  const uint64_t epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
  log::info("volume", "member {}: resilvering", m.root);
  write_status();
  return epoch;
}

// The count is raised before the epoch is read again: a change that saw epoch E counts
// under E before anyone can see E replaced, so drained_before(E + 1) waits for it. One that
// raced a new epoch counts again under that one (its members are taken from it after this).
uint64_t VolumeSet::changes_begin() {
  for (;;) {
    const uint64_t epoch = epoch_.load();
    changes_in_flight_[epoch % kChangeCounters].fetch_add(1);
    if (epoch_.load() == epoch) return epoch;
    changes_in_flight_[epoch % kChangeCounters].fetch_sub(1);
  }
}

void VolumeSet::changes_end(uint64_t epoch) {
  changes_in_flight_[epoch % kChangeCounters].fetch_sub(1);
}

bool VolumeSet::drained_before(uint64_t epoch, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool drained = true;
    for (uint64_t back = 1; back < kChangeCounters && back <= epoch && drained; back++)
      drained = changes_in_flight_[(epoch - back) % kChangeCounters].load() == 0;
    if (drained) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<void> VolumeSet::finish_resilver(size_t i) {
  std::lock_guard lock(mutex_);
  Member& m = members_[i];
  if (m.state != MemberState::resilvering)
    return make_error(EINVAL, m.root + " is no longer resilvering (" + m.reason + ")");
  // The rebuilt member joins at a new generation with the others, so that any member
  // left out meanwhile can never pass for current. The healthy members move first and the
  // rebuilt one last: a crash in between leaves it older than them, to be rebuilt again,
  // never newer than members that hold everything.
  const uint64_t next = generation_ + 1;
  raise_generation(next);
  if (healthy_count() == 0) {
    m.state = MemberState::degraded;
    m.reason = "no healthy member left to join";
    m.writable.store(false, std::memory_order_release);
    write_status();
    return make_error(EIO, m.root + ": no healthy member left to join");
  }
  if (auto r = write_meta(i, next); !r) {
    m.state = MemberState::degraded;
    m.reason = "cannot write its meta: " + r.error().message;
    m.writable.store(false, std::memory_order_release);
    write_status();
    return r;
  }
  generation_ = next;
  m.state = MemberState::healthy;
  m.reason.clear();
  m.healthy.store(true, std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  log::info("volume", "member {}: resilvered, healthy at generation {}", m.root, next);
  write_status();
  return {};
}

void VolumeSet::set_activity(const std::string& activity, std::string state) {
  std::lock_guard lock(mutex_);
  activities_[activity] = std::move(state);
  write_status();
}

void VolumeSet::count_error(size_t i) {
  std::lock_guard lock(mutex_);
  members_[i].errors++;
}

void VolumeSet::count_repair(size_t i) {
  std::lock_guard lock(mutex_);
  members_[i].repaired++;
  write_status();
}

std::vector<MemberStatus> VolumeSet::status() const {
  std::lock_guard lock(mutex_);
  std::vector<MemberStatus> out;
  for (size_t i = 0; i < members_.size(); i++) {
    const Member& m = members_[i];
    if (m.state == MemberState::absent) continue;
    out.push_back({i, m.root, m.state, m.generation, m.errors, m.repaired, m.reason});
  }
  return out;
}

uint64_t VolumeSet::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

std::string VolumeSet::status_text() const {
  std::lock_guard lock(mutex_);
  return status_text_locked();
}

std::string VolumeSet::status_text_locked() const {
  std::string out = fmt::format("set {} generation {}\n", set_id_, generation_);
  for (size_t i = 0; i < members_.size(); i++) {
    const Member& m = members_[i];
    if (m.state == MemberState::absent) continue;
    out += fmt::format("member {} {} {} {} {} {}\t{}\n", i, to_string(m.state), m.generation,
                       m.errors, m.repaired, m.root, printable(m.reason));
  }
  for (const auto& [name, state] : activities_) out += name + " " + printable(state) + "\n";
  return out;
}

std::string VolumeSet::metrics_text() const {
  std::lock_guard lock(mutex_);
  return metrics_text_locked();
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

std::string VolumeSet::metrics_text_locked() const {
  const std::string set = label_value(logical_root_);
  size_t healthy = 0;
  for (const Member& m : members_) healthy += m.state == MemberState::healthy;
  std::string out = fmt::format(
      "# HELP postcore_volume_generation Generation of the set's trusted members.\n"
      "# TYPE postcore_volume_generation gauge\n"
      "postcore_volume_generation{{set=\"{0}\"}} {1}\n"
      "# HELP postcore_volume_members_healthy Members of the set that are healthy.\n"
      "# TYPE postcore_volume_members_healthy gauge\n"
      "postcore_volume_members_healthy{{set=\"{0}\"}} {2}\n",
      set, generation_, healthy);
  std::vector<std::pair<const Member*, std::string>> members;  // with their labels
  for (const Member& m : members_)
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

void VolumeSet::write_status() {
  if (status_path_.empty()) return;
  auto r = write_file_durably(status_path_, status_text_locked());
  if (!r) log::warning("volume", "cannot write {}: {}", status_path_, r.error().message);
  const std::string metrics = metrics_path_for(status_path_);
  r = write_file_durably(metrics, metrics_text_locked());
  if (!r) log::warning("volume", "cannot write {}: {}", metrics, r.error().message);
}

std::vector<std::string> apply_member_edits(std::vector<std::string> members,
                                            const std::string& edits_path) {
  auto text = read_small_file(edits_path);
  if (!text) return members;
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::string_view line = next_line(rest);
    if (line.starts_with("add ")) {
      std::string root(line.substr(4));
      if (std::find(members.begin(), members.end(), root) == members.end())
        members.push_back(std::move(root));
    } else if (line.starts_with("remove ")) {
      std::erase(members, std::string(line.substr(7)));
    }
  }
  return members;
}

Result<void> record_member_edit(const std::string& edits_path, const std::string& verb,
                                const std::string& root) {
  std::string text;
  if (auto old = read_small_file(edits_path)) text = *old;
  text += verb + " " + root + "\n";
  return write_file_durably(edits_path, text);
}

}  // namespace postcore::volume
