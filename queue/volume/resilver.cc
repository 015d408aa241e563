#include "queue/volume/resilver.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
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
    if (auto r = set_.begin_resilver(member_); !r) return r.error();
    for (int pass = 1; pass <= 2; pass++) {
      if (pass == 2) std::this_thread::sleep_for(options_.settle);
      if (auto r = copy_all(pass); !r) return abandon(r.error());
    }
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
      if (auto r = copy_file(rel); !r) return r;
      if (pass == 1) report_.files++;
    }
    if (options_.progress)
      options_.progress(fmt::format("pass {} of 2: {} files, {} bytes read, {} written", pass,
                                    tree.files.size(), report_.bytes_read, report_.bytes_written));
    return {};
  }

  // Writes what differs between the set's copy and the member's, then syncs the member's.
  Result<void> copy_file(const std::string& rel) {
    auto src = io_.open(from_ + "/" + rel, O_RDONLY, 0);
    if (!src) return src.error().code == ENOENT ? Result<void>() : src.error();  // reclaimed
    auto dst = io_.open(to_ + "/" + rel, O_RDWR | O_CREAT, 0640);
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
        set_.fail(source_, got.error().code, "resilver read of " + rel);
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
