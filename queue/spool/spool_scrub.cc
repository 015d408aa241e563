#include "queue/spool/spool_scrub.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/spool/copy_check.h"
#include "queue/spool/queue_id.h"
#include "queue/volume/posix_file_io.h"
#include "queue/volume/small_file.h"

namespace postcore::spool {
namespace {

constexpr size_t kChunk = 256 * 1024;

// One member's copy of a file, read whole.
struct Copy {
  size_t member = 0;
  std::string bytes;
  bool good = false;  // every record (or the index) verifies
  std::string problem;
};

bool is_index(const std::string& name) {
  return parse_index_file_name(name).has_value();
}

// Whether a copy is a whole, intact segment or index: an index from its bytes, a segment
// record by record from the file (still open as `fd`).
bool verify(const std::string& name, const std::string& bytes, volume::FileIo& io, int fd,
            std::string* problem) {
  Result<void> r = is_index(name) ? check_index_copy(bytes) : check_segment_copy(io, fd, true);
  if (!r) *problem = r.error().message;
  return r.ok();
}

class Scrubber {
 public:
  Scrubber(volume::VolumeSet& set, std::string subdir, const ScrubOptions& options)
      : set_(set),
        subdir_(std::move(subdir)),
        options_(options),
        pacer_(options.bytes_per_second) {}

  ScrubReport run() {
    std::optional<size_t> reference = first_healthy();
    if (!reference) return report_;
    const std::string spool = set_.member_root(*reference) + "/" + subdir_;
    auto shards = io_.list_dir(spool);
    if (!shards) return report_;  // no spool yet
    std::sort(shards->begin(), shards->end());
    for (const std::string& shard : *shards) {
      if (!parse_shard_dir_name(shard)) continue;
      auto names = io_.list_dir(spool + "/" + shard);
      if (!names) continue;
      std::sort(names->begin(), names->end());
      for (const std::string& name : *names) {
        if (stopped()) return report_;
        // Sealed segments (those with an index) and indexes; never the active segment.
        std::optional<uint32_t> id = parse_segment_file_name(name);
        if (!id) id = parse_index_file_name(name);
        if (!id) continue;
        if (std::find(names->begin(), names->end(), index_file_name(*id)) == names->end()) continue;
        scrub_file(subdir_ + "/" + shard + "/" + name, name);
      }
    }
    return report_;
  }

 private:
  bool stopped() const { return options_.stop && options_.stop->load(); }

  std::optional<size_t> first_healthy() const {
    for (size_t m = 0; m < set_.size(); m++)
      if (set_.healthy(m)) return m;
    return std::nullopt;
  }

  std::string path_on(size_t m, const std::string& relative) const {
    return set_.member_root(m) + "/" + relative;
  }

  // Reads the whole file on member `m`; nullopt when it is gone (reclaimed meanwhile).
  std::optional<Copy> read_copy(size_t m, const std::string& relative, const std::string& name) {
    Copy copy;
    copy.member = m;
    auto fd = io_.open(path_on(m, relative), O_RDONLY, 0);
    if (!fd) {
      if (fd.error().code == ENOENT) {
        copy.problem = "missing";
        return copy;
      }
      set_.fail(m, fd.error().code, "scrub: " + fd.error().message);
      return std::nullopt;
    }
    auto size = io_.size(*fd);
    uint64_t done = 0;
    if (size) copy.bytes.resize(*size);
    while (size && done < *size) {
      size_t want = std::min<uint64_t>(kChunk, *size - done);
      auto n = io_.read(*fd, done, copy.bytes.data() + done, want);
      if (!n) {
        (void)io_.close(*fd);
        set_.fail(m, n.error().code, "scrub: " + n.error().message);
        return std::nullopt;
      }
      if (*n == 0) break;
      done += *n;
      pacer_.spent(*n);
    }
    copy.bytes.resize(done);
    report_.bytes += done;
    copy.good = verify(name, copy.bytes, io_, *fd, &copy.problem);
    (void)io_.close(*fd);
    return copy;
  }

  void scrub_file(const std::string& relative, const std::string& name) {
    std::vector<Copy> copies;
    for (size_t m = 0; m < set_.size(); m++) {
      if (!set_.healthy(m)) continue;
      auto copy = read_copy(m, relative, name);
      if (copy) copies.push_back(std::move(*copy));
    }
    if (copies.size() < 1) return;
    // Reclaimed while we read: nothing to compare.
    if (std::all_of(copies.begin(), copies.end(),
                    [](const Copy& c) { return c.problem == "missing"; }))
      return;
    report_.files++;
    const Copy* good = nullptr;
    for (const Copy& c : copies)
      if (c.good) {
        good = &c;
        break;
      }
    bool mismatch = false;
    for (const Copy& c : copies) mismatch = mismatch || !c.good || c.bytes != copies[0].bytes;
    if (!mismatch) return;
    report_.mismatches++;
    if (!good) {
      std::string why;
      for (const Copy& c : copies)
        why += fmt::format("; {}: {}", set_.member_root(c.member), c.problem);
      report_.unrepaired.push_back(relative + ": no good copy" + why);
      log::error("volume", "scrub: {}: no member has a good copy{}", relative, why);
      return;
    }
    bool all_mended = true;
    for (const Copy& c : copies) {
      if (&c == good || (c.good && c.bytes == good->bytes)) continue;
      log::warning("volume", "scrub: {} on {} {}; mending it from {}", relative,
                   set_.member_root(c.member), c.good ? "differs from the others" : c.problem,
                   set_.member_root(good->member));
      if (!mend(c, *good, relative)) all_mended = false;
    }
    if (all_mended)
      report_.repaired++;
    else
      report_.unrepaired.push_back(relative + ": a copy is missing, or a repair failed");
  }

  // Writes the good copy's bytes where the bad copy differs, then syncs. Only a copy that
  // exists is mended: the spool reclaims files while the scrub runs, and creating a missing
  // copy could bring back a file the spool has just deleted on every member (its messages
  // would be delivered twice). A copy that is missing on a healthy member stays reported.
  bool mend(const Copy& bad, const Copy& good, const std::string& relative) {
    auto fd = io_.open(path_on(bad.member, relative), O_WRONLY, 0);
    if (!fd && fd.error().code == ENOENT) {
      log::error("volume", "scrub: {} is missing on {}; left for a resilver (volume replace)",
                 relative, set_.member_root(bad.member));
      return false;
    }
    if (!fd) {
      set_.fail(bad.member, fd.error().code, "scrub repair: " + fd.error().message);
      return false;
    }
    bool ok = true;
    for (uint64_t at = 0; at < good.bytes.size() && ok; at += kChunk) {
      size_t len = std::min<uint64_t>(kChunk, good.bytes.size() - at);
      if (at + len <= bad.bytes.size() &&
          std::memcmp(good.bytes.data() + at, bad.bytes.data() + at, len) == 0)
        continue;
      int wrote = -EIO;
      io_.write(*fd, at, good.bytes.data() + at, len, [&](int r) { wrote = r; });
      io_.run_pending();
      if (wrote != static_cast<int>(len)) {
        set_.fail(bad.member, wrote < 0 ? -wrote : EIO, "scrub repair of " + relative);
        ok = false;
      }
      pacer_.spent(len);
    }
    if (ok && bad.bytes.size() > good.bytes.size()) ok = io_.truncate(*fd, good.bytes.size()).ok();
    if (ok) {
      auto synced = io_.sync(*fd);
      if (!synced) {
        set_.fail(bad.member, synced.error().code, "scrub repair: " + synced.error().message);
        ok = false;
      }
    }
    (void)io_.close(*fd);
    if (ok) set_.count_repair(bad.member);
    return ok;
  }

  volume::VolumeSet& set_;
  std::string subdir_;
  ScrubOptions options_;
  volume::Pacer pacer_;
  volume::PosixFileIo io_;
  ScrubReport report_;
};

}  // namespace

ScrubReport scrub_spool(volume::VolumeSet& set, const std::string& spool_subdir,
                        const ScrubOptions& options) {
  return Scrubber(set, spool_subdir, options).run();
}

ScrubReport scrub_trees(volume::VolumeSet& set, const std::vector<std::string>& trees,
                        const ScrubOptions& options) {
  ScrubReport r;
  for (const std::string& tree : trees) {
    if (options.stop && options.stop->load()) break;
    ScrubReport one = scrub_spool(set, tree, options);
    r.files += one.files;
    r.bytes += one.bytes;
    r.mismatches += one.mismatches;
    r.repaired += one.repaired;
    r.unrepaired.insert(r.unrepaired.end(), one.unrepaired.begin(), one.unrepaired.end());
  }
  return r;
}

}  // namespace postcore::spool
