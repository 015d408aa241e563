#include "control/server/store_volumes.h"

#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/log.h"
#include "control/store/store.h"
#include "control/store/volume_vfs.h"
#include "queue/volume/small_file.h"

namespace postcore::control {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStoreName = "config.db";
constexpr size_t kChunk = 1 << 16;

// Reads the file at `path` whole through `files`; `good` checks each chunk (null: none).
Result<std::string> read_all(volume::FileIo& files, const std::string& path,
                             const volume::FileIo::Check& good) {
  auto fd = files.open(path, O_RDONLY, 0);
  if (!fd) return fd.error();
  std::string out;
  Result<void> r;
  for (;;) {
    const size_t have = out.size();
    out.resize(have + kChunk);
    auto got = files.read_checked(*fd, have, out.data() + have, kChunk, good);
    if (!got) {
      r = got.error();
      break;
    }
    out.resize(have + *got);
    if (*got < kChunk) break;
  }
  (void)files.close(*fd);
  if (!r) return r.error();
  return out;
}

// Writes `data` as the whole content of `path` through `files` and makes it durable.
Result<void> write_all(volume::FileIo& files, const std::string& path, const std::string& data) {
  auto fd = files.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (!fd) return fd.error();
  Result<void> r = files.write_at(*fd, 0, data.data(), data.size());
  if (r) r = files.sync(*fd);
  (void)files.close(*fd);
  if (r) r = files.sync_dir(fs::path(path).parent_path().string());
  return r;
}

// A database page checks out: the store's pages are the size its header gives.
volume::FileIo::Check page_check(const std::string& first_chunk) {
  auto format = store::parse_database_header(first_chunk);
  if (!format || format->reserve != store::kPageReserve) return nullptr;
  const size_t page = format->page_size;
  return [page](const void* data, size_t len) {
    if (len % page != 0) return false;
    for (size_t at = 0; at < len; at += page)
      if (!store::page_checksum_ok(static_cast<const char*>(data) + at, page)) return false;
    return true;
  };
}

// Copies the store an earlier version kept at `legacy` (outside the set) into the set at
// the same logical path. The database arrives last, by rename, so a crash part way leaves
// no database in the set and the move is made again at the next start; the old files are
// renamed only once it is there.
Result<void> move_legacy_store(volume::FileIo& files, const std::string& legacy) {
  for (const char* suffix : {"-wal", ""}) {
    const std::string from = legacy + suffix;
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;
    volume::PosixFileIo local;
    auto bytes = read_all(local, from, nullptr);
    if (!bytes) return bytes.error();
    if (auto r = write_all(files, from + ".moving", *bytes); !r) return r;
    if (auto r = files.rename(from + ".moving", from); !r) return r;
  }
  if (auto r = files.sync_dir(fs::path(legacy).parent_path().string()); !r) return r;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::rename(legacy + suffix, legacy + suffix + ".moved-to-volume-set", ec);
  }
  log::info("control", "configuration store {} moved onto the volume set", legacy);
  return {};
}

}  // namespace

std::string store_member_root(const std::string& root) {
  return root + "/control";
}

StoreVolumes::StoreVolumes(std::string data_dir, std::shared_ptr<volume::VolumeSet> set,
                           std::chrono::milliseconds timeout)
    : data_dir_(std::move(data_dir)),
      store_path_(data_dir_ + "/control/" + kStoreName),
      set_(std::move(set)) {
  files_ = std::make_unique<volume::MirroredFileIo>(
      set_, posix_, [this](std::function<void()> fn) { deferred_.push_back(std::move(fn)); },
      timeout);
}

Result<std::unique_ptr<StoreVolumes>> StoreVolumes::open(const Profile& profile,
                                                         const std::string& data_dir) {
  std::vector<std::string> members;
  for (const std::string& m : profile.volumes.members)
    members.push_back(profile.volume_member_path(m));
  members = volume::apply_member_edits(std::move(members), data_dir + "/volume.members");
  const std::string logical = data_dir + "/control";
  bool logical_is_member = false;
  for (std::string& m : members) {
    m = store_member_root(m);
    (void)volume::create_directories_durably(m);  // a member that cannot is found out below
    std::error_code ec;
    logical_is_member = logical_is_member || fs::equivalent(m, logical, ec);
  }
  auto set = volume::VolumeSet::open(
      logical, members, logical + "/volume.status",
      std::chrono::duration_cast<std::chrono::milliseconds>(profile.volumes.io_timeout));
  if (!set) return make_error(set.error().code, "configuration store: " + set.error().message);
  std::unique_ptr<StoreVolumes> volumes(new StoreVolumes(
      data_dir, *set,
      std::chrono::duration_cast<std::chrono::milliseconds>(profile.volumes.io_timeout)));

  // An earlier version kept the store in DATA/control itself: it moves into the set once.
  const std::string legacy = logical + "/" + kStoreName;
  std::error_code ec;
  if (!logical_is_member && fs::exists(legacy, ec)) {
    auto there = volumes->files().open(legacy, O_RDONLY, 0);
    if (there) {
      (void)volumes->files().close(*there);
      log::warning("control", "{} is left over beside the store on the volume set; not used",
                   legacy);
    } else if (auto moved = move_legacy_store(volumes->files(), legacy); !moved) {
      return make_error(moved.error().code,
                        "moving " + legacy + " onto the volume set: " + moved.error().message);
    }
  }
  return volumes;
}

void StoreVolumes::tick(store::Store& store, const VolumeJobs& dataplane) {
  while (!deferred_.empty()) {
    auto now = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : now) fn();
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return;
  next_check_ = now + std::chrono::seconds(1);
  set_->check();
  files_->tick(now);
  follow_dataplane(store, dataplane);
}

void StoreVolumes::follow_dataplane(store::Store& store, const VolumeJobs& dataplane) {
  auto theirs = dataplane.members();
  if (!theirs) return;  // no word from the dataplane yet
  // Our members' states by slot, and which of them the dataplane still has.
  std::vector<volume::MemberState> ours(set_->size(), volume::MemberState::absent);
  for (const volume::MemberStatus& s : set_->status()) ours[s.index] = s.state;
  std::vector<bool> listed(set_->size(), false);
  for (const volume::MemberStatus& m : *theirs) {
    if (m.state == volume::MemberState::absent) continue;
    const std::string root = store_member_root(m.root);
    auto i = set_->member_index(root);
    if (!i || ours[*i] == volume::MemberState::absent) {
      (void)volume::create_directories_durably(root);
      auto added = set_->add_member(root);
      if (!added) {
        log::error("control", "store: cannot add member {}: {}", root, added.error().message);
        continue;
      }
      i = *added;
      ours[*i] = volume::MemberState::stale;
    }
    listed[*i] = true;
    const bool in =
        ours[*i] == volume::MemberState::healthy || ours[*i] == volume::MemberState::resilvering;
    const bool out =
        m.state == volume::MemberState::degraded || m.state == volume::MemberState::stale;
    // The store's last member stays: without it the store could not be read at all.
    if (out && in && set_->healthy_count() > 1)
      set_->fail(*i, EIO, "the dataplane took it out: " + m.reason);
    if (m.state == volume::MemberState::healthy && !in)
      if (auto r = rebuild(store, *i); !r)
        log::error("control", "store: rebuilding {}: {}", root, r.error().message);
  }
  // A member the dataplane no longer has was removed by the operator.
  for (size_t i = 0; i < set_->size(); i++) {
    if (ours[i] == volume::MemberState::absent || listed[i]) continue;
    if (auto r = set_->remove_member(i); !r)
      log::error("control", "store: removing {}: {}", set_->member_root(i), r.error().message);
  }
}

Result<void> StoreVolumes::rebuild(store::Store& store, size_t i) {
  if (set_->healthy(i)) return {};
  // The database file alone holds the store after this; it is read page by page from the
  // healthy members, each page checked (and mended where a copy fails).
  if (auto r = store.checkpoint(); !r) return r;
  (void)volume::create_directories_durably(set_->member_root(i));  // a member rebuilt without it
  if (auto r = set_->begin_resilver(i); !r) return r.error();
  Result<void> r;
  std::string header(100, '\0');
  if (auto fd = files_->open(store_path_, O_RDONLY, 0); !fd) {
    r = fd.error();
  } else {
    auto got = files_->read(*fd, 0, header.data(), header.size());
    if (!got) r = got.error();
    header.resize(got ? *got : 0);
    (void)files_->close(*fd);
  }
  Result<std::string> bytes = std::string();
  if (r) {
    bytes = read_all(*files_, store_path_, page_check(header));
    if (!bytes) r = bytes.error();
  }
  const std::string root = set_->member_root(i);
  if (r) r = write_all(posix_, root + "/" + kStoreName, *bytes);
  // The log is empty on the healthy members; one left from before must not be read.
  if (r) r = write_all(posix_, root + "/" + kStoreName + "-wal", {});
  if (!r) {
    set_->fail(i, r.error().code ? r.error().code : EIO,
               "rebuild of the store: " + r.error().message);
    return r;
  }
  if (auto finished = set_->finish_resilver(i); !finished) return finished;
  log::info("control", "store: member {} rebuilt ({} bytes)", root, bytes->size());
  return {};
}

}  // namespace postcore::control
