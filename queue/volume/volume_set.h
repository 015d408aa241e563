// VolumeSet: the members of one mirrored volume set (directories, each meant to sit on
// its own disk) and which of them may be trusted. Shared by every core: each core has its
// own MirroredFileIo over the set, and a member one core finds failing is out for all.
//
// Trust rests on a generation number kept in each member's `volume.meta` (with the set's
// id and the member's index). Whenever a member drops out, the generation of every member
// still in is raised first, so a member that went away and comes back (a disk that was
// pulled, a directory that was restored from a backup) has an older generation and is
// never trusted again until it is rebuilt from the others. A member without a meta beside
// members with one is new and empty, and is not trusted either.
//
// Threads: every method may be called from any thread. Member state has one owner, the
// set's keeper thread (keeper.h): every change (fail, begin/finish_resilver, add/remove,
// set_activity) is a task there, run in the order handed over, and the fsyncs of the
// members' metas happen there. Callers that may block (the maintenance and control
// threads, the synchronous calls of a MirroredFileIo) wait for their task; a reactor hands
// a failure over with fail_then() and goes on. What the hot path reads (healthy, writable,
// epoch, incarnation) is published in atomics; the rest is read under a lock that the
// keeper takes only to publish what it changed, never across I/O, so a status query
// answers while the keeper waits on a slow disk.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "queue/volume/keeper.h"
#include "queue/volume/member_calls.h"
#include "queue/volume/member_edits.h"
#include "queue/volume/status_writer.h"
#include "queue/volume/volume_meta.h"
#include "queue/volume/volume_status.h"

namespace postcore::volume {

class VolumeSet {
 public:
  // Reads (or, for a set never used before, writes) every member's volume.meta and decides
  // which members are trusted. `logical_root` is the directory the rest of the appliance
  // names paths under; member i stands in for it at member_roots[i]. `status_path`, if not
  // empty, is rewritten with status_text() after every change (see
  // write_status_in_background). Error when no member can be
  // trusted, or a member belongs to another set. `meta_timeout`: how long a member may take
  // to write its meta once the set runs (io_timeout); one that takes longer is degraded.
  static Result<std::shared_ptr<VolumeSet>> open(
      std::string logical_root, std::vector<std::string> member_roots, std::string status_path = {},
      std::chrono::milliseconds meta_timeout = std::chrono::seconds(30));

  size_t size() const { return members_.size(); }
  const std::string& logical_root() const { return logical_root_; }
  const std::string& member_root(size_t i) const { return members_[i].root; }
  bool healthy(size_t i) const { return members_[i].healthy.load(std::memory_order_acquire); }
  // Healthy or resilvering: every change goes to it.
  bool writable(size_t i) const { return members_[i].writable.load(std::memory_order_acquire); }
  // Changes whenever a member starts taking writes; a MirroredFileIo then opens its open
  // files on that member too.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Changes each time member `i` goes out or starts being rebuilt: a descriptor opened on
  // it before names what was there then, not what is there now.
  uint64_t incarnation(size_t i) const {
    return members_[i].incarnation.load(std::memory_order_acquire);
  }
  size_t healthy_count() const;
  size_t member_count() const;  // members that are not absent, whatever their state

  // Marks member `i` degraded (out of the set): logs why, raises the generation of the members
  // still in (a member whose meta cannot be written goes out too), rewrites the status. Does
  // nothing for a member already out. Returns once that is done (and durable).
  void fail(size_t i, int error, const std::string& what);
  // The same, handed to the keeper: returns at once, and `done` runs on the keeper's thread
  // once the failure is recorded (after any handed over before it). `incarnation`: the
  // member's when the failing call was issued; by the time the keeper gets to it the slot
  // may hold another member (this one taken out, removed and replaced), which is left be.
  void fail_then(size_t i, uint64_t incarnation, int error, std::string what,
                 std::function<void()> done);
  // Waits until every change handed over so far is done.
  void settle() { keeper_.settle(); }
  // Looks for each healthy member's volume.meta: a member whose directory vanished (or
  // was unmounted) is taken out, although writes to files it had open may still succeed.
  // For a thread that is not a reactor: it waits on the file system.
  void check();

  // Resilvering: a member that is not healthy starts taking every write (begin) while its
  // files are copied from the healthy ones; finish() raises the generation of the healthy
  // members and this one together and makes it healthy. A member that fails meanwhile is
  // degraded as usual, which ends the resilver. begin() returns the epoch from which every
  // change reaches the member (see drained_before).
  Result<uint64_t> begin_resilver(size_t i);
  Result<void> finish_resilver(size_t i);

  // Changes in flight (writes, datasyncs and the synchronous calls of every MirroredFileIo
  // over the set), counted by the epoch they were issued under: a change issued before a
  // member started taking writes went to the others only, and a rebuild that copies from
  // them must wait until it has landed (drained_before) rather than guess how long it takes.
  // changes_begin() returns the epoch to hand back to changes_end().
  uint64_t changes_begin();
  void changes_end(uint64_t epoch);
  // Waits, at most `timeout`, until no change issued under an epoch before `epoch` is in
  // flight. False on the timeout: what is left belongs to a member that stopped answering,
  // which MirroredFileIo::tick() takes out.
  bool drained_before(uint64_t epoch, std::chrono::milliseconds timeout) const;
  std::optional<size_t> member_index(const std::string& root) const;
  // Member i's root, read under the lock: for a thread that may look at a slot that is
  // being reused (a log line about a member that stopped answering, say).
  std::string member_name(size_t i) const;

  // Membership changes (postcorectl volume add / remove). add_member() puts a new, empty
  // directory in a free slot as `stale` (it is then resilvered like any member that is not
  // healthy); remove_member() takes a member out for good, raising the generation of the
  // healthy ones when it was healthy itself. The last healthy member cannot be removed.
  Result<size_t> add_member(const std::string& root);
  Result<void> remove_member(size_t i);
  void count_error(size_t i);
  void count_repair(size_t i);

  // What the last (or the running) scrub or resilver says, one line each, shown with the
  // status. `activity` is "scrub" or "resilver".
  void set_activity(const std::string& activity, std::string state);

  std::vector<MemberStatus> status() const;
  uint64_t generation() const;
  // The status text (volume_status.h): what DATA/volume.status holds.
  std::string status_text() const;
  // The status file (and the metrics beside it) is rewritten at every change before the
  // change returns, until its owner has started and calls write_status_in_background():
  // from then on a thread of its own writes it (status_writer.h), so that no state change,
  // repaired read or resilver progress waits on it.
  void write_status_in_background();

  // The same in Prometheus' text format (what node_exporter's textfile collector reads),
  // kept beside the status file: DATA/volume.prom for DATA/volume.status.
  std::string metrics_text() const;

 private:
  // "Kept": changed only on the keeper's thread, under mutex_; read there freely, anywhere
  // else under mutex_.
  struct Member {
    std::string root;  // kept; read freely once the member is writable
    std::atomic<bool> healthy{false};
    std::atomic<bool> writable{false};
    std::atomic<uint64_t> incarnation{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> repaired{0};
    MemberState state = MemberState::healthy;  // kept
    uint64_t generation = 0;                   // kept
    std::string reason;                        // kept
  };

  VolumeSet(std::string logical_root, std::vector<std::string> roots, std::string status_path,
            std::chrono::milliseconds meta_timeout);

  // On the keeper's thread (or in open(), before anyone else sees the set).
  void take_out(size_t i, int error, const std::string& what,
                std::optional<uint64_t> incarnation = std::nullopt);
  Result<size_t> add_now(const std::string& root);
  Result<void> remove_now(size_t i);
  Result<uint64_t> begin_resilver_now(size_t i);
  Result<void> finish_resilver_now(size_t i);
  Result<void> write_meta(size_t i, uint64_t generation) const;  // the file only
  // Writes generation `generation` into the metas of `members` at once, each on its member's
  // thread, waiting at most meta_timeout_; what each answered (ETIMEDOUT: nothing in time).
  std::vector<Result<void>> write_metas(const std::vector<size_t>& members, uint64_t generation);
  void raise_generation();
  void degrade(Member& m, std::string reason);  // takes the lock itself
  void write_status();                          // hands the status to status_writer_
  // Runs `task` on the keeper's thread and returns what it returned.
  template <typename Task>
  auto on_keeper(Task task) -> decltype(task()) {
    std::optional<decltype(task())> out;
    keeper_.call([&] { out.emplace(task()); });
    return std::move(*out);
  }

  // On the keeper's thread, or under mutex_.
  size_t present_count() const;  // members that are not absent
  std::vector<MemberStatus> status_locked() const;
  std::string status_text_locked() const;
  std::string metrics_text_locked() const;

  const std::string logical_root_;
  StatusWriter status_writer_;         // DATA/volume.status and .prom
  bool status_in_background_ = false;  // the keeper's alone
  std::deque<Member> members_;         // a deque: Member holds an atomic and cannot move
  mutable std::mutex mutex_;
  std::string set_id_;                             // kept
  uint64_t generation_ = 0;                        // kept
  std::map<std::string, std::string> activities_;  // kept
  std::atomic<uint64_t> epoch_{0};
  // changes_begin()'s counts, by epoch modulo their number. drained_before() looks at the
  // half before the epoch it is given, which shares no counter with it or with the epochs
  // after it while fewer than half that many follow during the wait (it gives up if more
  // do); a change still in flight from further back would have outlived that many member
  // changes, each bounded by io_timeout.
  static constexpr size_t kChangeCounters = 64;
  std::array<std::atomic<int64_t>, kChangeCounters> changes_in_flight_{};
  const std::chrono::milliseconds meta_timeout_;
  MemberCalls meta_calls_;  // the keeper's
  Keeper keeper_;           // last: its tasks use everything above, and it stops first
};

}  // namespace postcore::volume
