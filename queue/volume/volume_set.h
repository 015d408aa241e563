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
// Threads: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
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
  // trusted, or a member belongs to another set.
  static Result<std::shared_ptr<VolumeSet>> open(std::string logical_root,
                                                 std::vector<std::string> member_roots,
                                                 std::string status_path = {});

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
  // nothing for a member already out.
  void fail(size_t i, int error, const std::string& what);
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
  // repaired read or resilver progress waits on the file system under the set's lock.
  void write_status_in_background();

  // The same in Prometheus' text format (what node_exporter's textfile collector reads),
  // kept beside the status file: DATA/volume.prom for DATA/volume.status.
  std::string metrics_text() const;

 private:
  struct Member {
    std::string root;
    std::atomic<bool> healthy{false};
    std::atomic<bool> writable{false};
    std::atomic<uint64_t> incarnation{0};
    MemberState state = MemberState::healthy;  // guarded by mutex_
    uint64_t generation = 0;                   // guarded by mutex_
    uint64_t errors = 0;                       // guarded by mutex_
    uint64_t repaired = 0;                     // guarded by mutex_
    std::string reason;                        // guarded by mutex_
  };

  VolumeSet(std::string logical_root, std::vector<std::string> roots, std::string status_path);
  Result<void> write_meta(size_t i, uint64_t generation);  // caller holds mutex_
  size_t present_count() const;  // members that are not absent; caller holds mutex_
  void raise_generation(std::optional<uint64_t> next = std::nullopt);  // caller holds mutex_
  void write_status();  // publishes the status to status_writer_; caller holds mutex_
  std::vector<MemberStatus> status_locked() const;
  std::string status_text_locked() const;
  std::string metrics_text_locked() const;

  const std::string logical_root_;
  StatusWriter status_writer_;         // DATA/volume.status and .prom
  bool status_in_background_ = false;  // guarded by mutex_
  std::deque<Member> members_;         // a deque: Member holds an atomic and cannot move
  mutable std::mutex mutex_;
  std::string set_id_;                             // guarded by mutex_
  uint64_t generation_ = 0;                        // guarded by mutex_
  std::map<std::string, std::string> activities_;  // guarded by mutex_
  std::atomic<uint64_t> epoch_{0};
  // changes_begin()'s counts, by epoch modulo their number. drained_before() looks at the
  // half before the epoch it is given, which shares no counter with it or with the epochs
  // after it while fewer than half that many follow during the wait (it gives up if more
  // do); a change still in flight from further back would have outlived that many member
  // changes, each bounded by io_timeout.
  static constexpr size_t kChangeCounters = 64;
  std::array<std::atomic<int64_t>, kChangeCounters> changes_in_flight_{};
};

}  // namespace postcore::volume
