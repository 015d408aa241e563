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

VolumeSet::VolumeSet(std::string logical_root, std::vector<std::string> roots,
                     std::string status_path, std::chrono::milliseconds meta_timeout)
    : logical_root_(std::move(logical_root)),
      status_writer_(std::move(status_path)),
      meta_timeout_(meta_timeout) {
  for (size_t i = 0; i < kMaxVolumeMembers; i++) members_.emplace_back();
  for (size_t i = 0; i < roots.size(); i++) members_[i].root = std::move(roots[i]);
  for (size_t i = roots.size(); i < kMaxVolumeMembers; i++) members_[i].state = MemberState::absent;
}

Result<std::shared_ptr<VolumeSet>> VolumeSet::open(std::string logical_root,
                                                   std::vector<std::string> member_roots,
                                                   std::string status_path,
                                                   std::chrono::milliseconds meta_timeout) {
  if (member_roots.empty()) return make_error(EINVAL, "a volume set needs at least one member");
  if (member_roots.size() > kMaxVolumeMembers)
    return make_error(EINVAL,
                      fmt::format("a volume set has at most {} members", kMaxVolumeMembers));
  std::shared_ptr<VolumeSet> set(new VolumeSet(std::move(logical_root), std::move(member_roots),
                                               std::move(status_path), meta_timeout));
  // Nobody else sees the set yet, its keeper included: the members are read and set here.
  std::lock_guard lock(set->mutex_);
  std::vector<std::optional<VolumeMeta>> metas(set->members_.size());
  for (size_t i = 0; i < set->members_.size(); i++) {
    Member& m = set->members_[i];
    if (m.state == MemberState::absent) continue;
    if (auto made = create_directories_durably(m.root); !made) {
      m.state = MemberState::stale;
      m.reason = "cannot create " + m.root + ": " + made.error().message;
      continue;
    }
    auto text = read_small_file(m.root + "/" + kVolumeMetaName);
    if (!text) {
      if (text.error().code != ENOENT) {
        m.state = MemberState::stale;
        m.reason = text.error().message;
      }
      continue;
    }
    auto meta = parse_volume_meta(*text);
    if (!meta) {
      m.state = MemberState::stale;
      m.reason = m.root + "/" + meta.error().message;
      continue;
    }
    metas[i] = *meta;
  }
  // The set is what its newest member says; members of another set are not ours.
  const VolumeMeta* newest = nullptr;
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
      } else {
        m.generation = 1;
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

Result<void> VolumeSet::write_meta(size_t i, uint64_t generation) const {
  VolumeMeta meta{set_id_, static_cast<uint32_t>(i), generation};
  return write_file_durably(members_[i].root + "/" + kVolumeMetaName, format_volume_meta(meta));
}

std::vector<Result<void>> VolumeSet::write_metas(const std::vector<size_t>& members,
                                                 uint64_t generation) {
  std::vector<MemberCalls::Call> calls(members_.size());
  for (size_t i : members)
    calls[i] = call_without_value(
        [path = members_[i].root + "/" + kVolumeMetaName,
         text = format_volume_meta({set_id_, static_cast<uint32_t>(i), generation})] {
          return write_file_durably(path, text);
        });
  auto answers = meta_calls_.run(std::move(calls), meta_timeout_, [](int) {});
  std::vector<Result<void>> out;
  for (size_t i : members) {
    if (!answers[i]) {
      out.push_back(
          make_error(ETIMEDOUT, fmt::format("no answer in {} ms", meta_timeout_.count())));
    } else if (!*answers[i]) {
      out.push_back(answers[i]->error());
    } else {
      out.push_back({});
    }
  }
  return out;
}

void VolumeSet::degrade(Member& m, std::string reason) {
  {
    std::lock_guard lock(mutex_);
    m.state = MemberState::degraded;
    m.reason = std::move(reason);
  }
  m.errors.fetch_add(1, std::memory_order_relaxed);
}

// Moves every healthy member to a new generation, the one after the set's; a member whose
// meta cannot be written is degraded. Such a member may hold the new generation all the
// same (its rename went through before the error), so the others then move once more, past
// it, until a pass degrades nobody. The set takes a generation when some member holds it.
// The metas are written at once, each on its member's thread, with no lock held; a member
// that does not answer within meta_timeout_ is degraded like one that failed.
void VolumeSet::raise_generation() {
  for (uint64_t next = generation_ + 1;; next++) {
    std::vector<size_t> behind;
    for (size_t j = 0; j < members_.size(); j++)
      if (members_[j].state == MemberState::healthy && members_[j].generation != next)
        behind.push_back(j);
    const std::vector<Result<void>> written = write_metas(behind, next);
    bool degraded = false;
    for (size_t k = 0; k < behind.size(); k++) {
      const size_t j = behind[k];
      Member& other = members_[j];
      if (const Result<void>& r = written[k]; !r) {
        degrade(other, "cannot raise the generation: " + r.error().message);
        other.healthy.store(false, std::memory_order_release);
        other.writable.store(false, std::memory_order_release);
        other.incarnation.fetch_add(1, std::memory_order_acq_rel);
        log::error("volume", "member {} degraded ({})", other.root, other.reason);
        degraded = true;
        continue;
      }
      std::lock_guard lock(mutex_);
      other.generation = next;
      generation_ = next;
    }
    if (!degraded || healthy_count() == 0) return;
  }
}

void VolumeSet::fail(size_t i, int error, const std::string& what) {
  keeper_.call([&] { take_out(i, error, what); });
}

void VolumeSet::fail_then(size_t i, uint64_t incarnation, int error, std::string what,
                          std::function<void()> done) {
  keeper_.post([this, i, incarnation, error, what = std::move(what), done = std::move(done)] {
    take_out(i, error, what, incarnation);
    done();
  });
}

void VolumeSet::take_out(size_t i, int error, const std::string& what,
                         std::optional<uint64_t> incarnation) {
  Member& m = members_[i];
  if (m.state != MemberState::healthy && m.state != MemberState::resilvering) return;
  // A failure of what was in this slot before (out since, or removed and replaced): the
  // member there now has not failed.
  if (incarnation && *incarnation != m.incarnation.load(std::memory_order_acquire)) return;
  const bool was_healthy = m.state == MemberState::healthy;
  degrade(m, what + ": " + std::strerror(error));
  if (was_healthy) {
    // The members still in move to a new generation while this one still takes every
    // write (every core sees it healthy until the stores below), so nothing is
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
    const std::string probe =
        healthy(i) ? members_[i].root + "/" + kVolumeMetaName : members_[i].root;
    struct stat st;
    if (::stat(probe.c_str(), &st) != 0) {
      const int error = errno;
      fail(i, error, "member directory check (" + probe + ")");
    }
  }
}

std::string VolumeSet::member_name(size_t i) const {
  std::lock_guard lock(mutex_);
  return members_[i].root;
}

std::optional<size_t> VolumeSet::member_index(const std::string& root) const {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < members_.size(); i++)
    if (members_[i].state != MemberState::absent && members_[i].root == root) return i;
  return std::nullopt;
}

Result<size_t> VolumeSet::add_member(const std::string& root) {
  return on_keeper([&] { return add_now(root); });
}

Result<size_t> VolumeSet::add_now(const std::string& root) {
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
  // Threads other than the keeper read an absent slot's root under the lock, or once it is
  // writable, which it becomes later (begin_resilver) with a release store.
  Member& m = members_[*slot];
  {
    std::lock_guard lock(mutex_);
    m.root = root;
    m.generation = 0;
    m.state = MemberState::stale;
    m.reason = "added: holds nothing yet";
  }
  m.errors.store(0, std::memory_order_relaxed);
  m.repaired.store(0, std::memory_order_relaxed);
  log::info("volume", "member {} added to the set", root);
  write_status();
  return *slot;
}

Result<void> VolumeSet::remove_member(size_t i) {
  return on_keeper([&] { return remove_now(i); });
}

Result<void> VolumeSet::remove_now(size_t i) {
  Member& m = members_[i];
  if (m.state == MemberState::absent) return make_error(ENOENT, "no such member");
  if (m.state == MemberState::healthy && healthy_count() == 1)
    return make_error(EBUSY, m.root + " is the last healthy member");
  const bool was_healthy = m.state == MemberState::healthy;
  {
    std::lock_guard lock(mutex_);
    m.state = MemberState::absent;
  }
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
  return on_keeper([&] { return begin_resilver_now(i); });
}

Result<uint64_t> VolumeSet::begin_resilver_now(size_t i) {
  Member& m = members_[i];
  if (m.state == MemberState::healthy || m.state == MemberState::resilvering)
    return make_error(EINVAL, m.root + " is " + std::string(to_string(m.state)));
  if (auto made = create_directories_durably(m.root); !made) return made.error();
  {
    std::lock_guard lock(mutex_);
    m.state = MemberState::resilvering;
    m.reason = "being rebuilt from the healthy members";
  }
  m.incarnation.fetch_add(1, std::memory_order_acq_rel);
  m.writable.store(true, std::memory_order_release);
  const uint64_t epoch = epoch_.fetch_add(1) + 1;  // seq_cst: see changes_begin
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
    // The counters of the kChangeCounters / 2 epochs before `epoch` are checked; those of
    // the epochs after it never share one with them while fewer than that many follow.
    if (epoch_.load() - epoch >= kChangeCounters / 2) return false;
    bool drained = true;
    for (uint64_t back = 1; back <= kChangeCounters / 2 && back <= epoch && drained; back++)
      drained = changes_in_flight_[(epoch - back) % kChangeCounters].load() == 0;
    if (drained) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<void> VolumeSet::finish_resilver(size_t i) {
  return on_keeper([&] { return finish_resilver_now(i); });
}

Result<void> VolumeSet::finish_resilver_now(size_t i) {
  Member& m = members_[i];
  if (m.state != MemberState::resilvering)
    return make_error(EINVAL, m.root + " is no longer resilvering (" + m.reason + ")");
  // The rebuilt member joins at a new generation with the others, so that any member
  // left out meanwhile can never pass for current. The healthy members move first and the
  // rebuilt one last: a crash in between leaves it older than them, to be rebuilt again,
  // never newer than members that hold everything.
  raise_generation();
  const uint64_t next = generation_;
  Result<void> joined;
  if (healthy_count() == 0) {
    joined = make_error(EIO, m.root + ": no healthy member left to join");
    degrade(m, "no healthy member left to join");
  } else if (joined = write_metas({i}, next).front(); !joined) {
    degrade(m, "cannot write its meta: " + joined.error().message);
  }
  if (!joined) {
    m.writable.store(false, std::memory_order_release);
    m.incarnation.fetch_add(1, std::memory_order_acq_rel);
    epoch_.fetch_add(1, std::memory_order_acq_rel);
    log::error("volume", "member {}: resilver not finished ({})", m.root, m.reason);
    // Its meta may hold the new generation all the same: the others move past it.
    raise_generation();
    write_status();
    return joined;
  }
  {
    std::lock_guard lock(mutex_);
    generation_ = next;
    m.generation = next;
    m.state = MemberState::healthy;
    m.reason.clear();
  }
  m.healthy.store(true, std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  log::info("volume", "member {}: resilvered, healthy at generation {}", m.root, next);
  write_status();
  return {};
}

void VolumeSet::set_activity(const std::string& activity, std::string state) {
  keeper_.call([&] {
    {
      std::lock_guard lock(mutex_);
      activities_[activity] = std::move(state);
    }
    write_status();
  });
}

void VolumeSet::count_error(size_t i) {
  members_[i].errors.fetch_add(1, std::memory_order_relaxed);
}

void VolumeSet::count_repair(size_t i) {
  members_[i].repaired.fetch_add(1, std::memory_order_relaxed);
  keeper_.post([this] { write_status(); });
}

std::vector<MemberStatus> VolumeSet::status() const {
  std::lock_guard lock(mutex_);
  return status_locked();
}

std::vector<MemberStatus> VolumeSet::status_locked() const {
  std::vector<MemberStatus> out;
  for (size_t i = 0; i < members_.size(); i++) {
    const Member& m = members_[i];
    if (m.state == MemberState::absent) continue;
    out.push_back({i, m.root, m.state, m.generation, m.errors.load(std::memory_order_relaxed),
                   m.repaired.load(std::memory_order_relaxed), m.reason});
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
  return format_volume_status(set_id_, generation_, status_locked(), activities_);
}

std::string VolumeSet::metrics_text() const {
  std::lock_guard lock(mutex_);
  return metrics_text_locked();
}

std::string VolumeSet::metrics_text_locked() const {
  return format_volume_metrics(logical_root_, generation_, status_locked());
}

void VolumeSet::write_status() {
  if (status_in_background_)
    status_writer_.publish(status_text_locked(), metrics_text_locked());
  else
    status_writer_.write_now(status_text_locked(), metrics_text_locked());
}

void VolumeSet::write_status_in_background() {
  keeper_.call([this] { status_in_background_ = true; });
}

}  // namespace postcore::volume
