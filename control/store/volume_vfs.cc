#include "control/store/volume_vfs.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/crc32c.h"
#include "common/log.h"

namespace postcore::store {
namespace {

uint32_t get_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint32_t get_le32(const unsigned char* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// SQLite's log checksum: 32-bit words in pairs, each sum feeding the other.
struct WalSum {
  uint32_t s0 = 0, s1 = 0;
  void add(const unsigned char* data, size_t len, bool big_endian) {
    for (size_t i = 0; i + 8 <= len; i += 8) {
      s0 += (big_endian ? get_be32(data + i) : get_le32(data + i)) + s1;
      s1 += (big_endian ? get_be32(data + i + 4) : get_le32(data + i + 4)) + s0;
    }
  }
  bool matches(const unsigned char* stored) const {
    return get_be32(stored) == s0 && get_be32(stored + 4) == s1;
  }
};

constexpr uint32_t kWalMagic = 0x377f0682;  // low bit: checksums over big-endian words
constexpr uint32_t kWalVersion = 3007000;
constexpr size_t kWalHeader = 32;
constexpr size_t kFrameHeader = 24;
constexpr size_t kMaxPage = 65536;

// The per-file state behind SQLite's sqlite3_file. SQLite allocates szOsFile bytes and
// hands them to xOpen, which constructs this in place (or lets the default VFS use them
// for a temporary file).
struct VolumeFile {
  sqlite3_file base;
  VolumeVfs* vfs;
  int fd;
  bool database;       // the main database file: its pages carry checksums
  bool created;        // its directory entry may still have to be made durable
  uint32_t page_size;  // 0 until the header was read or written
  bool checksummed;    // the header says every page carries kPageReserve checksum bytes
  std::string* path;
};

int io_error(VolumeFile* f, int code, const Error& e) {
  log::error("store", "{}: {}", *f->path, e.message);
  if (e.code == ENOSPC || e.code == EDQUOT) return SQLITE_FULL;
  return code;
}

void learn_format(VolumeFile* f, std::string_view header) {
  auto format = parse_database_header(header);
  if (!format) return;
  f->page_size = format->page_size;
  f->checksummed = format->reserve == kPageReserve;
}

bool page_good(const void* data, size_t len, size_t page) {
  return len == page && page_checksum_ok(data, page);
}

// Learns the page format of an existing database from the first copy whose header leads
// to a first page that passes its check: a header damaged on one copy must not decide.
// When no first page passes, the first header found decides, and reads of the first
// page then fail their check.
void discover_format(VolumeFile* f) {
  volume::FileIo& files = f->vfs->files();
  std::optional<PageFormat> first_found;
  for (size_t c = 0; c < files.copies(f->fd); c++) {
    char header[100];
    auto got = files.read_copy(f->fd, c, 0, header, sizeof(header));
    if (!got) continue;
    auto format = parse_database_header({header, *got});
    if (!format) continue;  // no header on this copy
    if (!first_found) first_found = format;
    if (format->reserve != kPageReserve) break;
    std::vector<char> page(format->page_size);
    auto first = files.read_copy(f->fd, c, 0, page.data(), page.size());
    if (first && page_good(page.data(), *first, page.size())) {
      first_found = format;
      break;
    }
  }
  if (!first_found) return;
  f->page_size = first_found->page_size;
  f->checksummed = first_found->reserve == kPageReserve;
}

int x_close(sqlite3_file* file) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  auto r = f->vfs->files().close(f->fd);
  int rc = r ? SQLITE_OK : io_error(f, SQLITE_IOERR_CLOSE, r.error());
  delete f->path;
  return rc;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  const auto n = static_cast<size_t>(amount);
  const auto at = static_cast<uint64_t>(offset);
  volume::FileIo& files = f->vfs->files();
  Result<size_t> got = size_t{0};
  if (f->database && f->page_size == 0) discover_format(f);
  const uint64_t page = f->page_size;
  if (f->database && f->checksummed && at / page == (at + n - 1) / page) {
    // Whole pages are read and checked, whatever part SQLite asked for; a whole page (the
    // usual read) goes straight into SQLite's buffer.
    const uint64_t start = at - at % page;
    std::vector<char> part(n == page ? 0 : page);
    char* buf = n == page ? static_cast<char*>(out) : part.data();
    got = files.read_checked(f->fd, start, buf, page, [page](const void* data, size_t len) {
      return page_good(data, len, page);
    });
    // Every copy failed: past the end of the file (nothing to check), or damaged on
    // every member, which is never served.
    if (got && *got > 0 && !page_good(buf, *got, page)) {
      log::error("store", "{}: no copy of the page at offset {} passes its check", *f->path, start);
      return SQLITE_IOERR_DATA;
    }
    if (got) {
      const size_t skip = static_cast<size_t>(at - start);
      const size_t have = *got > skip ? std::min(n, *got - skip) : 0;
      if (buf != out) std::memcpy(out, buf + skip, have);
      got = have;
    }
  } else {
    got = files.read(f->fd, at, out, n);
  }
  if (!got) return io_error(f, SQLITE_IOERR_READ, got.error());
  if (*got < n) {
    std::memset(static_cast<char*>(out) + *got, 0, n - *got);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  const auto n = static_cast<size_t>(amount);
  const auto at = static_cast<uint64_t>(offset);
  if (f->database && at == 0) learn_format(f, {static_cast<const char*>(data), n});
  Result<void> r;
  if (f->database && f->checksummed && n == f->page_size && at % n == 0) {
    std::vector<char> page(static_cast<const char*>(data), static_cast<const char*>(data) + n);
    set_page_checksum(page.data(), n);
    r = f->vfs->files().write_at(f->fd, at, page.data(), n);
  } else {
    r = f->vfs->files().write_at(f->fd, at, data, n);
  }
  return r ? SQLITE_OK : io_error(f, SQLITE_IOERR_WRITE, r.error());
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  auto r = f->vfs->files().truncate(f->fd, static_cast<uint64_t>(size));
  return r ? SQLITE_OK : io_error(f, SQLITE_IOERR_TRUNCATE, r.error());
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : path.substr(0, slash);
}

int x_sync(sqlite3_file* file, int /*flags*/) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  auto r = f->vfs->files().sync(f->fd);
  if (!r) return io_error(f, SQLITE_IOERR_FSYNC, r.error());
  // A file made by this open is not there after a power cut until its directory is synced.
  if (f->created) {
    r = f->vfs->files().sync_dir(parent_of(*f->path));
    if (!r) return io_error(f, SQLITE_IOERR_DIR_FSYNC, r.error());
    f->created = false;
  }
  return SQLITE_OK;
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  auto* f = reinterpret_cast<VolumeFile*>(file);
  auto got = f->vfs->files().size(f->fd);
  if (!got) return io_error(f, SQLITE_IOERR_FSTAT, got.error());
  *size = static_cast<sqlite3_int64>(*got);
  return SQLITE_OK;
}

int x_lock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int x_check_reserved_lock(sqlite3_file*, int* reserved) {
  *reserved = 0;
  return SQLITE_OK;
}
int x_file_control(sqlite3_file*, int, void*) {
  return SQLITE_NOTFOUND;
}
int x_sector_size(sqlite3_file*) {
  return 4096;
}
int x_device_characteristics(sqlite3_file*) {
  return 0;
}

const sqlite3_io_methods kMethods = {
    1,  // no shared memory, no memory mapping
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_lock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
};

VolumeVfs* owner(sqlite3_vfs* vfs) {
  return static_cast<VolumeVfs*>(vfs->pAppData);
}

constexpr int kTemporary = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                           SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_SUBJOURNAL;

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  VolumeVfs* self = owner(vfs);
  if (name == nullptr || (flags & kTemporary) != 0)
    return self->fallback()->xOpen(self->fallback(), name, file, flags, out_flags);
  int open_flags = (flags & SQLITE_OPEN_READONLY) ? O_RDONLY : O_RDWR;
  if (flags & SQLITE_OPEN_CREATE) open_flags |= O_CREAT;
  if (flags & SQLITE_OPEN_EXCLUSIVE) open_flags |= O_EXCL;
  auto fd = self->files().open(name, open_flags, 0640);
  file->pMethods = nullptr;
  if (!fd) {
    if (fd.error().code != ENOENT) log::error("store", "{}: {}", name, fd.error().message);
    return SQLITE_CANTOPEN;
  }
  auto* f = reinterpret_cast<VolumeFile*>(file);
  f->vfs = self;
  f->fd = *fd;
  f->database = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  // This open may have made the file: its directory is synced at its first sync.
  f->created = (open_flags & O_CREAT) != 0;
  f->page_size = 0;
  f->checksummed = false;
  f->path = new std::string(name);
  f->base.pMethods = &kMethods;
  if (out_flags) *out_flags = flags;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  VolumeVfs* self = owner(vfs);
  auto r = self->files().unlink(name);
  if (!r && r.error().code == ENOENT) return SQLITE_IOERR_DELETE_NOENT;
  if (!r) {
    log::error("store", "{}", r.error().message);
    return SQLITE_IOERR_DELETE;
  }
  if (sync_dir && !self->files().sync_dir(parent_of(name))) return SQLITE_IOERR_DIR_FSYNC;
  return SQLITE_OK;
}

int x_access(sqlite3_vfs* vfs, const char* name, int /*flags*/, int* result) {
  VolumeVfs* self = owner(vfs);
  auto fd = self->files().open(name, O_RDONLY, 0);
  *result = fd.ok();
  if (fd) (void)self->files().close(*fd);
  if (!fd && fd.error().code != ENOENT) {
    log::error("store", "{}: {}", name, fd.error().message);
    return SQLITE_IOERR_ACCESS;
  }
  return SQLITE_OK;
}

int x_full_pathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xFullPathname(fallback, name, size, out);
}
int x_randomness(sqlite3_vfs* vfs, int size, char* out) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xRandomness(fallback, size, out);
}
int x_sleep(sqlite3_vfs* vfs, int microseconds) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xSleep(fallback, microseconds);
}
int x_current_time(sqlite3_vfs* vfs, double* now) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xCurrentTime(fallback, now);
}
int x_get_last_error(sqlite3_vfs* vfs, int size, char* out) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xGetLastError(fallback, size, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* now) {
  sqlite3_vfs* fallback = owner(vfs)->fallback();
  return fallback->xCurrentTimeInt64(fallback, now);
}

// Reads one copy of a file whole; a copy that cannot be read is empty.
std::string read_whole_copy(volume::FileIo& files, int fd, size_t copy) {
  std::string out;
  constexpr size_t kChunk = 1 << 16;
  for (;;) {
    const size_t have = out.size();
    out.resize(have + kChunk);
    auto got = files.read_copy(fd, copy, have, out.data() + have, kChunk);
    out.resize(have + (got ? *got : 0));
    if (!got || *got < kChunk) return out;
  }
}

}  // namespace

void set_page_checksum(void* page, size_t size) {
  auto* p = static_cast<unsigned char*>(page);
  const uint32_t crc = crc32c(p, size - kPageReserve);
  for (int i = 0; i < 4; i++)
    p[size - kPageReserve + i] = static_cast<unsigned char>(crc >> (8 * i));
}

bool page_checksum_ok(const void* page, size_t size) {
  if (size <= static_cast<size_t>(kPageReserve)) return false;
  const auto* p = static_cast<const unsigned char*>(page);
  return crc32c(p, size - kPageReserve) == get_le32(p + size - kPageReserve);
}

std::optional<PageFormat> parse_database_header(std::string_view header) {
  static constexpr std::string_view kMagic("SQLite format 3\0", 16);
  if (header.size() < 100 || header.substr(0, 16) != kMagic) return std::nullopt;
  const unsigned char* h = bytes_of(header);
  uint32_t size = (uint32_t{h[16]} << 8) | h[17];
  if (size == 1) size = 65536;
  if (size < 512 || size > kMaxPage || (size & (size - 1)) != 0) return std::nullopt;
  return PageFormat{size, h[20]};
}

uint64_t wal_committed_length(std::string_view wal) {
  if (wal.size() < kWalHeader) return 0;
  const unsigned char* w = bytes_of(wal);
  const uint32_t magic = get_be32(w);
  const uint32_t page = get_be32(w + 8);
  if ((magic & ~1u) != kWalMagic || get_be32(w + 4) != kWalVersion || page < 512 ||
      page > kMaxPage || (page & (page - 1)) != 0)
    return 0;
  const bool big_endian = magic & 1;
  WalSum sum;
  sum.add(w, 24, big_endian);
  if (!sum.matches(w + 24)) return 0;
  uint64_t committed = 0;
  const size_t frame = kFrameHeader + page;
  for (size_t at = kWalHeader; at + frame <= wal.size(); at += frame) {
    const unsigned char* h = w + at;
    if (get_be32(h) == 0 || std::memcmp(h + 8, w + 16, 8) != 0) break;  // salts
    sum.add(h, 8, big_endian);
    sum.add(h + kFrameHeader, page, big_endian);
    if (!sum.matches(h + 16)) break;
    if (get_be32(h + 4) != 0) committed = at + frame;  // a commit frame
  }
  return committed;
}

Result<void> reconcile_wal(volume::FileIo& files, const std::string& wal_path) {
  // Created where it is missing: after a crash the log may exist on some members only,
  // which is not a member's failure. An empty log is no log to SQLite.
  auto fd = files.open(wal_path, O_RDWR | O_CREAT, 0640);
  if (!fd) return fd.error();
  std::vector<std::string> copies;
  for (size_t c = 0; c < files.copies(*fd); c++) copies.push_back(read_whole_copy(files, *fd, c));
  size_t best = 0;
  std::vector<uint64_t> lengths;
  for (size_t c = 0; c < copies.size(); c++) {
    lengths.push_back(wal_committed_length(copies[c]));
    if (lengths[c] > lengths[best]) best = c;
  }
  Result<void> r;
  const uint64_t keep = copies.empty() ? 0 : lengths[best];
  bool longer = false;
  for (size_t c = 0; r && c < copies.size(); c++) {
    longer = longer || copies[c].size() > keep;
    if (c == best || std::string_view(copies[c]).substr(0, keep) ==
                         std::string_view(copies[best]).substr(0, keep))
      continue;
    log::warning("store", "{}: copy {} holds {} committed bytes of the log, copy {} holds {}",
                 wal_path, c, lengths[c], best, keep);
    // A copy that cannot be mended takes its member out (MirroredFileIo): the others go on.
    (void)files.mend_copy(*fd, c, 0, copies[best].data(), keep);
  }
  // What follows the last commit was never acknowledged: cut it, so that no copy can be
  // read past the point the others agree on.
  if (r && longer) r = files.truncate(*fd, keep);
  if (r && longer) r = files.sync(*fd);
  (void)files.close(*fd);
  return r;
}

Result<DatabaseScrub> scrub_database(volume::FileIo& files, const std::string& path) {
  auto fd = files.open(path, O_RDWR, 0);
  if (!fd) return fd.error();
  // The store is small: each copy is read once, whole, and its pages checked from there.
  std::vector<std::string> copies;
  for (size_t c = 0; c < files.copies(*fd); c++) copies.push_back(read_whole_copy(files, *fd, c));
  std::optional<PageFormat> format;  // from the first copy whose header parses
  uint64_t size = 0;
  for (const std::string& copy : copies) {
    if (!format) format = parse_database_header(copy);
    size = std::max<uint64_t>(size, copy.size());
  }
  if (!format || format->reserve != kPageReserve) {
    (void)files.close(*fd);
    return make_error(EINVAL, path + ": not a database whose pages carry checksums");
  }
  const size_t page = format->page_size;
  auto good_page = [&](size_t c, uint64_t at) {
    return at + page <= copies[c].size() && page_checksum_ok(copies[c].data() + at, page);
  };
  DatabaseScrub report;
  for (uint64_t at = 0; at < size; at += page) {
    report.pages++;
    std::optional<size_t> good;
    for (size_t c = 0; c < copies.size() && !good; c++)
      if (good_page(c, at)) good = c;
    if (!good) {
      report.unreadable++;
      log::error("store", "{}: no copy of the page at offset {} passes its check", path, at);
      continue;
    }
    for (size_t c = 0; c < copies.size(); c++) {
      if (good_page(c, at)) continue;
      // A copy that cannot be mended has taken its member out, and the copies are
      // numbered anew: the scrub stops there.
      if (auto r = files.mend_copy(*fd, c, at, copies[*good].data() + at, page); !r) {
        (void)files.close(*fd);
        return r.error();
      }
      report.mended++;
    }
  }
  (void)files.close(*fd);
  return report;
}

VolumeVfs::VolumeVfs(volume::FileIo& files) : fallback_(sqlite3_vfs_find(nullptr)), files_(files) {
  static std::atomic<unsigned> serial{0};
  name_ = fmt::format("postcore-volume-{}", serial.fetch_add(1));
  vfs_.iVersion = 2;
  vfs_.szOsFile = std::max<int>(sizeof(VolumeFile), fallback_->szOsFile);
  vfs_.mxPathname = fallback_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = x_open;
  vfs_.xDelete = x_delete;
  vfs_.xAccess = x_access;
  vfs_.xFullPathname = x_full_pathname;
  vfs_.xRandomness = x_randomness;
  vfs_.xSleep = x_sleep;
  vfs_.xCurrentTime = x_current_time;
  vfs_.xGetLastError = x_get_last_error;
  vfs_.xCurrentTimeInt64 = x_current_time_int64;
  sqlite3_vfs_register(&vfs_, 0);
}

VolumeVfs::~VolumeVfs() {
  sqlite3_vfs_unregister(&vfs_);
}

}  // namespace postcore::store
