#include "queue/volume/resilver.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/volume/posix_file_io.h"
#include "queue/volume/small_file.h"

namespace postcore::volume {
namespace {

namespace fs = std::filesystem;
constexpr size_t kChunk = 256 * 1024;

bool is_meta(const std::string& relative) {
  return relative == "volume.meta" || relative == "volume.meta.tmp";
}

// Relative paths of the regular files and of the directories under `root`.
struct Tree {
  std::vector<std::string> files;
  std::vector<std::string> dirs;
};

Tree walk(const std::string& root, const std::vector<std::string>& skip_dirs) {
  Tree tree;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string rel = fs::relative(it->path(), root, ec).string();
    if (ec) break;
    if (it.depth() == 0 && it->is_directory(ec) &&
        std::find(skip_dirs.begin(), skip_dirs.end(), rel) != skip_dirs.end()) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec))
      tree.dirs.push_back(rel);
    else if (it->is_regular_file(ec) && !is_meta(rel))
      tree.files.push_back(rel);
  }
  std::sort(tree.files.begin(), tree.files.end());
  std::sort(tree.dirs.begin(), tree.dirs.end());
  return tree;
}

class Rebuild {
 public:
  Rebuild(VolumeSet& set, size_t member, size_t source, const ResilverOptions& options)
      : set_(set),
        member_(member),
        source_(source),
        options_(options),
        pacer_(options.bytes_per_second),
        from_(set.member_root(source)),
        to_(set.member_root(member)) {}

  Result<ResilverReport> run() {
    if (auto r = prune(); !r) return r.error();
    auto joined = set_.begin_resilver(member_);
    if (!joined) return joined.error();
    if (!set_.drained_before(*joined, options_.drain_timeout)) {
      return abandon(
          make_error(ETIMEDOUT, fmt::format("changes issued before it joined did not land in {} ms",
                                            options_.drain_timeout.count())));
    }
    for (int pass = 1; pass <= 2; pass++)
      if (auto r = copy_all(pass); !r) return abandon(r.error());
    if (auto r = sync_dirs(); !r) return abandon(r.error());
    if (auto r = set_.finish_resilver(member_); !r) return r.error();
    return report_;
  }

 private:
  bool stopped() const { return options_.stop && options_.stop->load(); }

  Error abandon(const Error& e) {
    if (e.code != ECANCELED) set_.fail(member_, e.code ? e.code : EIO, "resilver: " + e.message);
    return e;
  }

  // Step 1, before the member takes writes: nothing it holds may contradict the set.
  Result<void> prune() {
    Tree theirs = walk(to_, options_.skip_dirs);
    std::set<std::string> ours;
    for (const std::string& f : walk(from_, options_.skip_dirs).files) ours.insert(f);
    for (const std::string& rel : theirs.files) {
      std::error_code ec;
      if (!ours.count(rel)) {
        fs::remove(fs::path(to_) / rel, ec);
        report_.removed++;
        continue;
      }
      uint64_t mine = fs::file_size(fs::path(from_) / rel, ec);
      if (ec) continue;  // gone meanwhile: the copy passes will not see it either
      uint64_t size = fs::file_size(fs::path(to_) / rel, ec);
      if (!ec && size > mine) fs::resize_file(fs::path(to_) / rel, mine, ec);
      if (ec) return make_error(ec.value(), "cannot cut " + rel + ": " + ec.message());
    }
    return {};
  }

  Result<void> copy_all(int pass) {
    Tree tree = walk(from_, options_.skip_dirs);
    for (const std::string& dir : tree.dirs) {
      if (auto made = create_directories_durably((fs::path(to_) / dir).string()); !made)
        return made;
    }
    for (const std::string& rel : tree.files) {
      if (stopped()) return make_error(ECANCELED, "stopped");
      if (!set_.writable(member_)) return make_error(EIO, "the member dropped out");
      // The listing and every copy without a check come from the source: once it is out,
      // what it holds may lack changes the others took.
      if (!set_.healthy(source_)) return make_error(EIO, "the member copied from dropped out");
      if (auto r = copy_file(rel); !r) return r;
      if (pass == 1) report_.files++;
    }
    if (options_.progress)
      options_.progress(fmt::format("pass {} of 2: {} files, {} bytes read, {} written", pass,
                                    tree.files.size(), report_.bytes_read, report_.bytes_written));
    return {};
  }

  // The member to copy `rel` from: the source, unless its copy fails `verify`; then the
  // first other healthy member whose copy passes. Decided once per file, so the second pass
  // compares with the same copy, unless that member has gone out since. Nullopt when no
  // member has the file any more (the spool reclaimed it meanwhile).
  std::optional<size_t> copy_from(const std::string& rel) {
    if (!options_.verify) return source_;
    if (auto known = chosen_.find(rel); known != chosen_.end()) {
      if (set_.healthy(known->second)) return known->second;
      chosen_.erase(known);
    }
    std::optional<size_t> good, present;
    std::string why;
    std::vector<size_t> order{source_};
    for (size_t m = 0; m < set_.size(); m++)
      if (m != source_ && m != member_) order.push_back(m);
    for (size_t m : order) {
      if (good) break;
      if (!set_.healthy(m)) continue;
      auto fd = io_.open(set_.member_root(m) + "/" + rel, O_RDONLY, 0);
      if (!fd) continue;  // not there (reclaimed), or unreadable: another copy may do
      if (!present) present = m;
      auto size = io_.size(*fd);
      Result<void> checked = options_.verify(io_, *fd, rel);
      (void)io_.close(*fd);
      if (size) report_.bytes_read += *size, pacer_.spent(*size);
      if (checked)
        good = m;
      else
        why += fmt::format("; {}: {}", set_.member_root(m), checked.error().message);
    }
    if (!present) return std::nullopt;
    if (!good) {
      report_.damaged.push_back(rel + ": no copy verifies" + why);
      log::error("volume", "resilver of {}: {}: no copy verifies{}; copied as it is", to_, rel,
                 why);
    } else if (*good != source_) {
      report_.from_other_copy++;
      log::warning("volume", "resilver of {}: {} fails its checks on {}; copied from {}", to_, rel,
                   from_, set_.member_root(*good));
    }
    return chosen_[rel] = good.value_or(*present);
  }

  // Writes what differs between the set's copy and the member's, then syncs the member's.
  Result<void> copy_file(const std::string& rel) {
    const std::optional<size_t> chosen = copy_from(rel);
    if (!chosen) return {};  // reclaimed on every member
    const size_t from_member = *chosen;
    const std::string from = set_.member_root(from_member) + "/" + rel;
    const std::string to = to_ + "/" + rel;
    auto src = io_.open(from, O_RDONLY, 0);
    if (!src) return src.error().code == ENOENT ? Result<void>() : src.error();  // reclaimed
    auto dst = io_.open(to, O_RDWR | O_CREAT, 0640);
    if (!dst) {
      (void)io_.close(*src);
      return dst.error();
    }
    Result<void> r;
    auto size = io_.size(*src);
    if (!size) r = size.error();
    std::string a(kChunk, '\0'), b(kChunk, '\0');
    bool wrote = false;
    for (uint64_t at = 0; r && at < (size ? *size : 0); at += kChunk) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, *size - at));
      auto got = io_.read(*src, at, a.data(), want);
      if (!got) {
        set_.fail(from_member, got.error().code, "resilver read of " + rel);
        r = got.error();
        break;
      }
      auto have = io_.read(*dst, at, b.data(), *got);
      if (!have) {
        r = have.error();
        break;
      }
      report_.bytes_read += *got + *have;
      pacer_.spent(*got + *have);
      if (*have == *got && std::memcmp(a.data(), b.data(), *got) == 0) continue;
      r = io_.write_at(*dst, at, a.data(), *got);
      report_.bytes_written += *got;
      pacer_.spent(*got);
      wrote = true;
    }
    if (r && wrote) r = io_.sync(*dst);
    (void)io_.close(*src);
    (void)io_.close(*dst);
    if (!r) return make_error(r.error().code, rel + ": " + r.error().message);
    // Deleted on the set meanwhile: its unlink may have reached the member before the copy
    // made the file there, which must not bring it back on this member alone.
    std::error_code ec;
    if (!fs::exists(from, ec) && !ec) (void)io_.unlink(to);
    return {};
  }

  Result<void> sync_dirs() {
    for (const std::string& dir : walk(to_, options_.skip_dirs).dirs)
      if (auto r = io_.sync_dir(to_ + "/" + dir); !r) return r;
    return io_.sync_dir(to_);
  }

  VolumeSet& set_;
  size_t member_, source_;
  ResilverOptions options_;
  Pacer pacer_;
  std::string from_, to_;
  PosixFileIo io_;
  ResilverReport report_;
  std::map<std::string, size_t> chosen_;  // copy_from's answers
};

}  // namespace

Result<ResilverReport> resilver(VolumeSet& set, size_t member, const ResilverOptions& options) {
  if (member >= set.size()) return make_error(EINVAL, "no such member");
  if (set.healthy(member)) return make_error(EINVAL, set.member_root(member) + " is healthy");
  std::optional<size_t> source;
  for (size_t m = 0; m < set.size(); m++)
    if (set.healthy(m)) {
      source = m;
      break;
    }
  if (!source) return make_error(EIO, "no healthy member to rebuild from");
  return Rebuild(set, member, *source, options).run();
}

}  // namespace postcore::volume
