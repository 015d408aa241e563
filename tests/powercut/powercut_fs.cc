// powercut-fs: a file system in memory that, on command, forgets everything that was never
// made durable, as a power cut would. It is how postcore's power-cut tests run the real
// appliance on real files: kill -9 keeps the page cache and so cannot show a missing fsync;
// this can.
//
// What survives a cut (the worst a POSIX file system may do):
//   - a file's bytes and size as of its last fsync or fdatasync;
//   - a directory's names as of its last fsync (a new file whose name was never synced into
//     its directory is gone, whatever was synced of its bytes; a rename or unlink whose
//     directory was never synced is undone).
//
//   powercut-fs --state DIR --control SOCKET MOUNTPOINT
//
// At start the tree in DIR (if any) is loaded as the durable state and served at
// MOUNTPOINT. SOCKET takes one-line commands and answers one line ("ok ..." or "error ..."):
//   freeze       every request from now on waits (the instant of the cut)
//   cut drop     freeze, forget what was not durable, and write what is left to DIR
//   cut keep     freeze, make everything durable (a disk whose cache reached the platter),
//                and write it to DIR
//   stats        counts of writes, file syncs, directory syncs and unsynced bytes
//   exit         unmount and exit; requests still waiting end with EIO or, once this
//                process is gone, with the connection's abort
// A test freezes every member, cuts each, kills the appliance (its threads blocked in this
// file system die once `exit` answers them), exits, and mounts a new powercut-fs on DIR:
// the restarted appliance sees only what a machine would find after the power came back.
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr double kCacheSeconds = 1.0;  // every change passes through the kernel: it stays true

struct Node {
  fuse_ino_t ino = 0;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  timespec mtime{};
  timespec ctime{};
  // Regular files: the bytes a read sees now and the bytes a power cut would leave. Only
  // the ranges written since the last sync (and the shortest size since) differ, so a sync
  // copies those alone: a spool segment is synced once per group commit.
  std::string data;
  std::string durable;
  std::vector<std::pair<size_t, size_t>> dirty;  // [begin, end) written since the last sync
  size_t low_water = 0;                          // the smallest size since the last sync
  // Directories: names now and names as of the directory's last fsync.
  std::map<std::string, fuse_ino_t> entries;
  std::map<std::string, fuse_ino_t> durable_entries;

  bool is_dir() const { return S_ISDIR(mode); }

  void mark_dirty(size_t begin, size_t end) {
    if (!dirty.empty() && begin <= dirty.back().second && end >= dirty.back().first) {
      dirty.back().first = std::min(dirty.back().first, begin);
      dirty.back().second = std::max(dirty.back().second, end);
    } else {
      dirty.emplace_back(begin, end);
    }
    if (dirty.size() > 4096) {  // scattered writes: one range covering them all is still right
      size_t lo = dirty.front().first, hi = dirty.front().second;
      for (auto& [b, e] : dirty) lo = std::min(lo, b), hi = std::max(hi, e);
      dirty.assign(1, {lo, hi});
    }
  }

  void resize(size_t size) {
    low_water = std::min(low_water, size);
    data.resize(size, '\0');
  }

  void sync_data() {
    durable.resize(low_water);  // bytes a truncate cut off are gone from the disk too
    durable.resize(data.size(), '\0');
    for (auto [begin, end] : dirty) {
      end = std::min(end, data.size());
      if (begin < end) durable.replace(begin, end - begin, data, begin, end - begin);
    }
    dirty.clear();
    low_water = data.size();
  }

  void lose_unsynced() {
    data = durable;
    dirty.clear();
    low_water = data.size();
    entries = durable_entries;
  }
};

class PowerCutFs {
 public:
  std::mutex mu;
  std::condition_variable thawed;
  bool frozen = false;
  bool dead = false;
  std::unordered_map<fuse_ino_t, std::unique_ptr<Node>> nodes;
  fuse_ino_t next_ino = FUSE_ROOT_ID + 1;
  uint64_t writes = 0, file_syncs = 0, dir_syncs = 0;

  Node* find(fuse_ino_t ino) {
    auto it = nodes.find(ino);
    return it == nodes.end() ? nullptr : it->second.get();
  }

  Node& make(mode_t mode, fuse_ino_t ino = 0) {
    auto n = std::make_unique<Node>();
    n->ino = ino ? ino : next_ino++;
    n->mode = mode;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    n->ctime = n->mtime;
    Node& ref = *n;
    nodes[ref.ino] = std::move(n);
    return ref;
  }

  struct stat attr(const Node& n) const {
    struct stat st {};
    st.st_ino = n.ino;
    st.st_mode = n.mode;
    st.st_nlink = n.is_dir() ? 2 : 1;
    st.st_uid = n.uid;
    st.st_gid = n.gid;
    st.st_size = n.is_dir() ? 4096 : static_cast<off_t>(n.data.size());
    st.st_blksize = 4096;
    st.st_blocks = (st.st_size + 511) / 512;
    st.st_mtim = n.mtime;
    st.st_ctim = n.ctime;
    st.st_atim = n.mtime;
    return st;
  }

  fuse_entry_param entry(const Node& n) const {
    fuse_entry_param e{};
    e.ino = n.ino;
    e.attr = attr(n);
    e.attr_timeout = kCacheSeconds;
    e.entry_timeout = kCacheSeconds;
    return e;
  }

  // The state a power cut leaves: for `keep`, everything as it is now.
  void cut(bool keep) {
    for (auto& [ino, n] : nodes) {
      if (keep) {
        n->sync_data();
        n->durable_entries = n->entries;
      } else {
        n->lose_unsynced();
      }
    }
  }

  uint64_t unsynced_bytes() const {
    uint64_t total = 0;
    for (const auto& [ino, n] : nodes)
      for (auto [b, e] : n->dirty) total += e - b;
    return total;
  }

  // Names made, moved or removed since their directory's last sync.
  uint64_t unsynced_names() const {
    uint64_t total = 0;
    for (const auto& [ino, n] : nodes) {
      for (const auto& [name, child] : n->entries) {
        auto d = n->durable_entries.find(name);
        total += d == n->durable_entries.end() || d->second != child;
      }
      for (const auto& [name, child] : n->durable_entries) total += !n->entries.count(name);
    }
    return total;
  }

  // Writes the durable tree to `dir` (through a new directory renamed over the old one).
  void dump(const fs::path& dir, uint64_t& files, uint64_t& bytes) {
    fs::path fresh = dir.string() + ".new";
    fs::remove_all(fresh);
    fs::create_directories(fresh);
    dump_dir(*find(FUSE_ROOT_ID), fresh, files, bytes);
    fs::remove_all(dir);
    fs::rename(fresh, dir);
  }

  void load(const fs::path& dir) {
    Node& root = make(S_IFDIR | 0755, FUSE_ROOT_ID);
    if (fs::is_directory(dir)) load_dir(root, dir);
  }

 private:
  void dump_dir(const Node& d, const fs::path& path, uint64_t& files, uint64_t& bytes) {
    for (const auto& [name, ino] : d.durable_entries) {
      const Node* n = find(ino);
      if (!n || S_ISSOCK(n->mode)) continue;
      fs::path p = path / name;
      if (n->is_dir()) {
        fs::create_directory(p);
        dump_dir(*n, p, files, bytes);
      } else {
        std::ofstream out(p, std::ios::binary);
        out.write(n->durable.data(), static_cast<std::streamsize>(n->durable.size()));
        if (!out) throw std::runtime_error("cannot write " + p.string());
        ++files;
        bytes += n->durable.size();
      }
      fs::permissions(p, static_cast<fs::perms>(n->mode & 07777));
    }
  }

  void load_dir(Node& d, const fs::path& path) {
    for (const auto& e : fs::directory_iterator(path)) {
      struct stat st {};
      if (::lstat(e.path().c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        Node& n = make(S_IFDIR | (st.st_mode & 07777));
        load_dir(n, e.path());
        d.entries[e.path().filename()] = n.ino;
      } else if (S_ISREG(st.st_mode)) {
        Node& n = make(S_IFREG | (st.st_mode & 07777));
        std::ifstream in(e.path(), std::ios::binary);
        n.data.assign(std::istreambuf_iterator<char>(in), {});
        n.durable = n.data;
        n.low_water = n.data.size();
        d.entries[e.path().filename()] = n.ino;
      }
    }
    d.durable_entries = d.entries;
  }
};

PowerCutFs g_fs;

// Runs one request under the lock once the file system is not frozen; after `exit` the
// request is answered with EIO instead (its caller is a killed process on its way out).
template <class F>
void serve(fuse_req_t req, F&& body) {
  std::unique_lock lock(g_fs.mu);
  g_fs.thawed.wait(lock, [] { return !g_fs.frozen || g_fs.dead; });
  if (g_fs.dead) {
    fuse_reply_err(req, EIO);
    return;
  }
  body();
}

Node* dir_of(fuse_req_t req, fuse_ino_t ino) {
  Node* d = g_fs.find(ino);
  if (!d)
    fuse_reply_err(req, ENOENT);
  else if (!d->is_dir())
    fuse_reply_err(req, ENOTDIR), d = nullptr;
  return d;
}

void touch(Node& n) {
  clock_gettime(CLOCK_REALTIME, &n.mtime);
  n.ctime = n.mtime;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&] {
    Node* d = dir_of(req, parent);
    if (!d) return;
    auto it = d->entries.find(name);
    if (it == d->entries.end()) return (void)fuse_reply_err(req, ENOENT);
    fuse_entry_param e = g_fs.entry(*g_fs.find(it->second));
    fuse_reply_entry(req, &e);
  });
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) {
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    struct stat st = g_fs.attr(*n);
    fuse_reply_attr(req, &st, kCacheSeconds);
  });
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    if (to_set & FUSE_SET_ATTR_SIZE) {
      if (n->is_dir()) return (void)fuse_reply_err(req, EISDIR);
      n->resize(static_cast<size_t>(attr->st_size));
      touch(*n);
    }
    if (to_set & FUSE_SET_ATTR_MODE) n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
    if (to_set & FUSE_SET_ATTR_UID) n->uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) n->gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_MTIME) n->mtime = attr->st_mtim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) clock_gettime(CLOCK_REALTIME, &n->mtime);
    struct stat st = g_fs.attr(*n);
    fuse_reply_attr(req, &st, kCacheSeconds);
  });
}

// Makes a node named `name` in `parent`; answers the request unless it returns the node.
Node* make_in(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Node* d = dir_of(req, parent);
  if (!d) return nullptr;
  if (d->entries.count(name)) return fuse_reply_err(req, EEXIST), nullptr;
  if (std::strlen(name) > 255) return fuse_reply_err(req, ENAMETOOLONG), nullptr;
  Node& n = g_fs.make(mode);
  const fuse_ctx* ctx = fuse_req_ctx(req);
  n.uid = ctx->uid;
  n.gid = ctx->gid;
  d->entries[name] = n.ino;
  touch(*d);
  return &n;
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  serve(req, [&] {
    Node* n = make_in(req, parent, name, S_IFDIR | (mode & 07777));
    if (!n) return;
    fuse_entry_param e = g_fs.entry(*n);
    fuse_reply_entry(req, &e);
  });
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  serve(req, [&] {
    // Sockets too: a Unix socket bound here (the appliance's admin socket) is a name the
    // kernel ties to the node; like a real one, it does not outlive the cut.
    if (!S_ISREG(mode) && !S_ISSOCK(mode)) return (void)fuse_reply_err(req, EPERM);
    Node* n = make_in(req, parent, name, mode);
    if (!n) return;
    fuse_entry_param e = g_fs.entry(*n);
    fuse_reply_entry(req, &e);
  });
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi) {
  serve(req, [&] {
    Node* d = dir_of(req, parent);
    if (!d) return;
    Node* n = nullptr;
    auto it = d->entries.find(name);
    if (it != d->entries.end()) {
      if (fi->flags & O_EXCL) return (void)fuse_reply_err(req, EEXIST);
      n = g_fs.find(it->second);
      if (n->is_dir()) return (void)fuse_reply_err(req, EISDIR);
      if (fi->flags & O_TRUNC) n->resize(0);
    } else {
      n = make_in(req, parent, name, S_IFREG | (mode & 07777));
      if (!n) return;
    }
    fuse_entry_param e = g_fs.entry(*n);
    fuse_reply_create(req, &e, fi);
  });
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&] {
    Node* d = dir_of(req, parent);
    if (!d) return;
    auto it = d->entries.find(name);
    if (it == d->entries.end()) return (void)fuse_reply_err(req, ENOENT);
    if (g_fs.find(it->second)->is_dir()) return (void)fuse_reply_err(req, EISDIR);
    d->entries.erase(it);
    touch(*d);
    fuse_reply_err(req, 0);
  });
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&] {
    Node* d = dir_of(req, parent);
    if (!d) return;
    auto it = d->entries.find(name);
    if (it == d->entries.end()) return (void)fuse_reply_err(req, ENOENT);
    Node* n = g_fs.find(it->second);
    if (!n->is_dir()) return (void)fuse_reply_err(req, ENOTDIR);
    if (!n->entries.empty()) return (void)fuse_reply_err(req, ENOTEMPTY);
    d->entries.erase(it);
    touch(*d);
    fuse_reply_err(req, 0);
  });
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags) {
  serve(req, [&] {
    if (flags & ~RENAME_NOREPLACE) return (void)fuse_reply_err(req, EINVAL);
    Node* from = dir_of(req, parent);
    if (!from) return;
    Node* to = dir_of(req, newparent);
    if (!to) return;
    auto it = from->entries.find(name);
    if (it == from->entries.end()) return (void)fuse_reply_err(req, ENOENT);
    fuse_ino_t moving = it->second;
    auto target = to->entries.find(newname);
    if (target != to->entries.end()) {
      if (flags & RENAME_NOREPLACE) return (void)fuse_reply_err(req, EEXIST);
      if (target->second == moving) return (void)fuse_reply_err(req, 0);
      Node* old = g_fs.find(target->second);
      bool moving_dir = g_fs.find(moving)->is_dir();
      if (old->is_dir() && !moving_dir) return (void)fuse_reply_err(req, EISDIR);
      if (!old->is_dir() && moving_dir) return (void)fuse_reply_err(req, ENOTDIR);
      if (old->is_dir() && !old->entries.empty()) return (void)fuse_reply_err(req, ENOTEMPTY);
    }
    from->entries.erase(it);
    to->entries[newname] = moving;
    touch(*from);
    touch(*to);
    fuse_reply_err(req, 0);
  });
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    if (n->is_dir()) return (void)fuse_reply_err(req, EISDIR);
    if (fi->flags & O_TRUNC) n->resize(0);
    fuse_reply_open(req, fi);
  });
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    size_t at = static_cast<size_t>(off);
    if (at >= n->data.size()) return (void)fuse_reply_buf(req, nullptr, 0);
    fuse_reply_buf(req, n->data.data() + at, std::min(size, n->data.size() - at));
  });
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
              fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    size_t at = static_cast<size_t>(off);
    if (n->data.size() < at + size) n->data.resize(at + size, '\0');
    std::memcpy(n->data.data() + at, buf, size);
    n->mark_dirty(at, at + size);
    touch(*n);
    ++g_fs.writes;
    fuse_reply_write(req, size);
  });
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    if (mode != 0) return (void)fuse_reply_err(req, EOPNOTSUPP);
    size_t end = static_cast<size_t>(off + len);
    if (n->data.size() < end) n->data.resize(end, '\0');
    fuse_reply_err(req, 0);
  });
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  serve(req, [&] {
    Node* n = g_fs.find(ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    if (n->is_dir()) {
      n->durable_entries = n->entries;
      ++g_fs.dir_syncs;
    } else {
      n->sync_data();
      ++g_fs.file_syncs;
    }
    fuse_reply_err(req, 0);
  });
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  serve(req, [&] {
    Node* d = dir_of(req, ino);
    if (!d) return;
    d->durable_entries = d->entries;
    ++g_fs.dir_syncs;
    fuse_reply_err(req, 0);
  });
}

// A directory is listed as it was when it was opened: names made or removed meanwhile
// neither shift the offsets of a listing in progress nor appear twice in it.
struct Listing {
  std::vector<std::pair<std::string, struct stat>> entries;
};

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  serve(req, [&] {
    Node* d = dir_of(req, ino);
    if (!d) return;
    auto listing = std::make_unique<Listing>();
    listing->entries.emplace_back(".", g_fs.attr(*d));
    listing->entries.emplace_back("..", g_fs.attr(*d));
    for (const auto& [name, child] : d->entries)
      listing->entries.emplace_back(name, g_fs.attr(*g_fs.find(child)));
    fi->fh = reinterpret_cast<uint64_t>(listing.release());
    fuse_reply_open(req, fi);
  });
}

void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  serve(req, [&] {
    const auto* listing = reinterpret_cast<const Listing*>(fi->fh);
    std::string buf(size, '\0');
    size_t used = 0;
    for (size_t i = static_cast<size_t>(off); i < listing->entries.size(); ++i) {
      const auto& [name, st] = listing->entries[i];
      size_t need = fuse_add_direntry(req, buf.data() + used, size - used, name.c_str(), &st,
                                      static_cast<off_t>(i + 1));
      if (need > size - used) break;
      used += need;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<Listing*>(fi->fh);  // not gated: nothing to forget, only memory
  fuse_reply_err(req, 0);
}

// Every write must reach this process before write(2) returns: a kernel write-back cache
// would hold unsynced bytes where a cut cannot see them.
void op_init(void*, fuse_conn_info* conn) {
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(req, 0);
}
void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_blocks = st.f_bfree = st.f_bavail = 1ull << 24;  // 64 GiB: never the limit in a test
  st.f_files = st.f_ffree = st.f_favail = 1ull << 20;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

struct Options {
  std::string state, control, mountpoint;
};

std::string handle(const std::string& command, const Options& opt) {
  std::unique_lock lock(g_fs.mu);
  if (command == "freeze") {
    g_fs.frozen = true;
    return "ok";
  }
  if (command == "cut drop" || command == "cut keep") {
    g_fs.frozen = true;
    const uint64_t lost = g_fs.unsynced_bytes();
    const uint64_t lost_names = g_fs.unsynced_names();
    g_fs.cut(command == "cut keep");
    uint64_t files = 0, bytes = 0;
    try {
      g_fs.dump(opt.state, files, bytes);
    } catch (const std::exception& e) {
      return std::string("error ") + e.what();
    }
    std::ostringstream out;
    out << "ok files=" << files << " bytes=" << bytes << " unsynced_bytes=" << lost
        << " unsynced_names=" << lost_names;
    return out.str();
  }
  if (command == "stats") {
    std::ostringstream out;
    out << "ok writes=" << g_fs.writes << " file_syncs=" << g_fs.file_syncs
        << " dir_syncs=" << g_fs.dir_syncs << " unsynced_bytes=" << g_fs.unsynced_bytes();
    return out.str();
  }
  if (command == "exit") {
    g_fs.dead = true;
    g_fs.thawed.notify_all();
    return "ok";
  }
  return "error unknown command: " + command;
}

void serve_control(int listener, const Options& opt) {
  for (;;) {
    int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::string line;
    char ch;
    while (::read(c, &ch, 1) == 1 && ch != '\n') line += ch;
    std::string answer = handle(line, opt) + "\n";
    (void)!::write(c, answer.data(), answer.size());
    ::close(c);
    if (line == "exit") {
      // The held requests are answered (EIO) as their threads wake; the mount goes now, and
      // closing /dev/fuse at exit ends whatever is left. The caller waits for this process.
      ::umount2(opt.mountpoint.c_str(), MNT_DETACH);
      _exit(0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--state" && i + 1 < argc)
      opt.state = argv[++i];
    else if (a == "--control" && i + 1 < argc)
      opt.control = argv[++i];
    else if (opt.mountpoint.empty() && a[0] != '-')
      opt.mountpoint = a;
    else {
      std::fprintf(stderr, "powercut-fs: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (opt.state.empty() || opt.control.empty() || opt.mountpoint.empty()) {
    std::fprintf(stderr, "usage: powercut-fs --state DIR --control SOCKET MOUNTPOINT\n");
    return 2;
  }
  try {
    g_fs.load(opt.state);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "powercut-fs: cannot load %s: %s\n", opt.state.c_str(), e.what());
    return 1;
  }

  fuse_lowlevel_ops ops{};
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.rename = op_rename;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.releasedir = op_releasedir;
  ops.init = op_init;
  ops.fsyncdir = op_fsyncdir;
  ops.statfs = op_statfs;
  ops.create = op_create;
  ops.fallocate = op_fallocate;

  // allow_other: the appliance's processes need not be the user that mounted.
  const char* fuse_argv[] = {argv[0], "-o", "allow_other,fsname=powercut,subtype=powercut"};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(fuse_argv));
  fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), nullptr);
  if (!se) return 1;
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, opt.mountpoint.c_str()) != 0) {
    std::fprintf(stderr, "powercut-fs: cannot mount %s\n", opt.mountpoint.c_str());
    return 1;
  }

  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", opt.control.c_str());
  ::unlink(opt.control.c_str());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, 8) != 0) {
    std::fprintf(stderr, "powercut-fs: cannot listen on %s: %s\n", opt.control.c_str(),
                 std::strerror(errno));
    fuse_session_unmount(se);
    return 1;
  }
  std::thread(serve_control, listener, std::cref(opt)).detach();

  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, 64);
  int rc = fuse_session_loop_mt(se, config);
  fuse_loop_cfg_destroy(config);
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  return rc == 0 ? 0 : 1;
}
