// Opening the store, transactions, the audit trail, the version counter and the snapshot.
#include "control/store/store.h"

#include <fcntl.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <exception>

#include "common/log.h"
#include "control/store/schema.h"
#include "control/store/sqlite_db.h"
#include "control/store/store_internal.h"
#include "control/store/volume_vfs.h"
#include "queue/volume/file_io.h"

namespace postcore::store {
namespace internal {

std::string_view kind_column(NameKind kind) {
  switch (kind) {
    case NameKind::account:
      return "account";
    case NameKind::alias:
      return "alias";
    case NameKind::forwarder:
      return "forwarder";
    case NameKind::group:
      return "group";
  }
  return "account";
}

NameKind kind_from_column(std::string_view column) {
  if (column == "alias") return NameKind::alias;
  if (column == "forwarder") return NameKind::forwarder;
  if (column == "group") return NameKind::group;
  return NameKind::account;
}

std::string_view kind_with_article(NameKind kind) {
  switch (kind) {
    case NameKind::account:
      return "an account";
    case NameKind::alias:
      return "an account alias";
    case NameKind::forwarder:
      return "a forwarder";
    case NameKind::group:
      return "a group";
  }
  return "an account";
}

std::string_view kind_noun(NameKind kind) {
  return kind == NameKind::alias ? "account alias" : kind_column(kind);
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<void> check_text_field(std::string_view field, std::string_view text) {
  constexpr size_t kMaxText = 1024;
  if (text.size() > kMaxText)
    return make_error(EINVAL, fmt::format("invalid {}: longer than {} bytes", field, kMaxText));
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      return make_error(EINVAL, fmt::format("invalid {}: control character \\x{:02x}", field,
                                            static_cast<unsigned>(byte)));
  }
  return {};
}

std::string services_text(uint8_t services) {
  std::vector<std::string> names;
  if (services & directory::service_smtp) names.emplace_back("smtp");
  if (services & directory::service_pop) names.emplace_back("pop");
  if (services & directory::service_imap) names.emplace_back("imap");
  if (names.empty()) return "none";
  std::string out = names[0];
  for (size_t i = 1; i < names.size(); ++i) out += "," + names[i];
  return out;
}

std::string quota_text(uint64_t quota_kb) {
  return quota_kb == 0 ? "none" : fmt::format("{} KB", quota_kb);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find(separator, start), text.size());
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace internal

namespace {

// A store on a volume set: one connection in exclusive locking mode (the VFS has no
// shared memory for the log's index), and every page with a checksum. A database made
// before it had them is rewritten whole (VACUUM) with room for them.
Result<void> set_volume_pragmas(SqliteDb& db, volume::FileIo& files) {
  if (auto r = db.exec("PRAGMA locking_mode = EXCLUSIVE"); !r) return r;
  if (db.page_reserve() == kPageReserve) return {};
  auto pages = db.query_integer("PRAGMA page_count");
  if (!pages) return pages.error();
  db.page_reserve(kPageReserve);
  if (pages->value_or(0) == 0) return {};
  log::info("store", "{}: adding page checksums (VACUUM)", db.path());
  if (auto r = db.exec("VACUUM"); !r) return r;
  if (auto r = db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); !r) return r;
  // What the file says now, not what the connection was asked for.
  auto fd = files.open(db.path(), O_RDONLY, 0);
  if (!fd) return fd.error();
  std::string header(100, '\0');
  auto got = files.read(*fd, 0, header.data(), header.size());
  (void)files.close(*fd);
  if (!got) return got.error();
  auto format = parse_database_header(header.substr(0, *got));
  if (!format || format->reserve != kPageReserve)
    return make_error(EIO, fmt::format("configuration store {}: cannot make room for page "
                                       "checksums",
                                       db.path()));
  return {};
}

Result<void> set_pragmas(SqliteDb& db) {
  // WAL: readers (snapshot publishing) never wait for the writer, and a commit is one
  // append plus one fsync. FULL: that fsync happens at every commit, so a committed
  // change survives power loss, not only a crash of the process.
  auto mode = db.query("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  auto row = mode->next();
  if (!row) return row.error();
  std::string journal = *row ? mode->text(0) : std::string();
  if (journal != "wal")
    return make_error(EIO, fmt::format("configuration store {}: cannot use write-ahead logging "
                                       "(journal mode stays \"{}\")",
                                       db.path(), journal));
  if (auto r = db.exec("PRAGMA synchronous = FULL"); !r) return r;
  if (auto r = db.exec("PRAGMA foreign_keys = ON"); !r) return r;
  auto keys = db.query_integer("PRAGMA foreign_keys");
  if (!keys) return keys.error();
  if (keys->value_or(0) != 1)
    return make_error(EIO, fmt::format("configuration store {}: this SQLite cannot enforce "
                                       "foreign keys",
                                       db.path()));
  return {};
}

// Runs the caller's body; an exception from it becomes an error, so the transaction is
// still rolled back and nothing is thrown across the store's boundary.
Result<void> run_body(const std::function<Result<void>(Store&)>& body, Store& store) {
  try {
    return body(store);
  } catch (const std::exception& e) {
    return make_error(EIO, fmt::format("transaction aborted by an exception: {}", e.what()));
  } catch (...) {
    return make_error(EIO, "transaction aborted by an exception");
  }
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, StoreOptions options) {
  std::unique_ptr<VolumeVfs> vfs;
  if (options.files != nullptr) {
    // Before SQLite recovers the log: its copies must agree first.
    if (auto r = reconcile_wal(*options.files, path + "-wal"); !r)
      return make_error(
          EIO, fmt::format("configuration store {}: log copies: {}", path, r.error().message));
    vfs = std::make_unique<VolumeVfs>(*options.files);
  }
  auto db = SqliteDb::open(path, options.busy_timeout_ms, vfs ? vfs->name() : nullptr);
  if (!db) return db.error();
  if (vfs)
    if (auto r = set_volume_pragmas(**db, *options.files); !r) return r.error();
  if (auto r = set_pragmas(**db); !r) return r.error();
  auto version = migrate(**db, schema_migrations());
  if (!version) return version.error();
  std::unique_ptr<Store> store(
      new Store(std::move(vfs), std::move(*db), std::move(options), *version));
  if (auto r = store->checkpoint(); !r) return r.error();
  return store;
}

Store::Store(std::unique_ptr<VolumeVfs> vfs, std::unique_ptr<SqliteDb> db, StoreOptions options,
             int schema_version)
    : vfs_(std::move(vfs)),
      db_(std::move(db)),
      options_(std::move(options)),
      schema_version_(schema_version) {}

Result<DatabaseScrub> Store::scrub() {
  if (!vfs_) return make_error(EINVAL, "the configuration store is not on a volume set");
  if (auto r = checkpoint(); !r) return r.error();
  return scrub_database(*options_.files, db_->path());
}

Result<void> Store::checkpoint() {
  if (!vfs_) return {};
  return db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Store::~Store() = default;

Result<void> Store::transaction(const std::function<Result<void>(Store&)>& body) {
  const bool outermost = depth_ == 0;
  if (auto r = db_->exec(outermost ? "BEGIN IMMEDIATE" : "SAVEPOINT nested"); !r) return r;
  if (outermost) db_->expect_transaction(true);
  const bool changed_before = changed_;
  ++depth_;
  Result<void> result = run_body(body, *this);
  --depth_;
  if (outermost) return finish_outermost(std::move(result));
  if (result) {
    result = db_->exec("RELEASE nested");
    if (result) return result;
  }
  // After some failures SQLite has already rolled the whole transaction back; then there
  // is no savepoint left, and the outermost level reports the loss.
  if (db_->in_transaction()) {
    if (auto undone = db_->exec("ROLLBACK TO nested; RELEASE nested"); !undone)
      log::error("store", "{}", undone.error().message);
  }
  changed_ = changed_before;
  return result;
}

Result<void> Store::finish_outermost(Result<void> result) {
  if (result && changed_)
    result = db_->run("UPDATE directory_version SET version = version + 1 WHERE id = 1");
  if (result && options_.fail_at && options_.fail_at("commit"))
    result = make_error(
        EIO, fmt::format("configuration store {}: injected failure at commit", db_->path()));
  if (result) result = db_->exec("COMMIT");
  db_->expect_transaction(false);
  // Committed is durable: a checkpoint that fails now is retried after the next commit
  // (and at the next open), and the change stands.
  if (result && !(options_.fail_at && options_.fail_at("checkpoint")))
    if (auto folded = checkpoint(); !folded) log::warning("store", "{}", folded.error().message);
  if (!result && db_->in_transaction()) {
    if (auto undone = db_->exec("ROLLBACK"); !undone)
      log::error("store", "{}", undone.error().message);
  }
  changed_ = false;
  return result;
}

Result<void> Store::record(const Actor& actor, std::string_view action, std::string_view object,
                           std::string_view detail) {
  auto inserted = db_->run(
      "INSERT INTO audit (time_ms, uid, origin, action, object, detail) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      internal::now_ms(), static_cast<int64_t>(actor.uid), actor.origin, action, object, detail);
  if (inserted) {
    changed_ = true;
    ++audit_rows_written_;
  }
  return inserted;
}

Result<uint64_t> Store::version() {
  auto version = db_->query_integer("SELECT version FROM directory_version WHERE id = 1");
  if (!version) return version.error();
  return static_cast<uint64_t>(version->value_or(0));
}

Result<std::vector<AuditEntry>> Store::audit(size_t limit, int64_t since_ms) {
  const auto capped = static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
  auto rows = db_->query(
      "SELECT id, time_ms, uid, origin, action, object, detail FROM "
      "(SELECT * FROM audit WHERE time_ms >= ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
      since_ms, capped);
  if (!rows) return rows.error();
  std::vector<AuditEntry> entries;
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) break;
    entries.push_back(AuditEntry{rows->integer(0), rows->integer(1),
                                 static_cast<uid_t>(rows->integer(2)), rows->text(3), rows->text(4),
                                 rows->text(5), rows->text(6)});
  }
  return entries;
}

Result<directory::DirectoryData> Store::load_directory() {
  directory::DirectoryData data;
  auto read_all = [&]() -> Result<void> {
    auto version = this->version();
    if (!version) return version.error();
    data.version = *version;
    auto domains = read_domains({});
    if (!domains) return domains.error();
    data.domains = std::move(*domains);
    auto accounts = read_accounts({});
    if (!accounts) return accounts.error();
    data.accounts = std::move(*accounts);
    auto aliases = read_account_aliases({});
    if (!aliases) return aliases.error();
    data.account_aliases = std::move(*aliases);
    auto forwarders = read_forwarders({});
    if (!forwarders) return forwarders.error();
    data.forwarders = std::move(*forwarders);
    auto groups = read_groups({});
    if (!groups) return groups.error();
    data.groups = std::move(*groups);
    auto networks = read_relay_networks();
    if (!networks) return networks.error();
    data.relay_networks = std::move(*networks);
    auto aliases_on_system = read_ip_aliases();
    if (!aliases_on_system) return aliases_on_system.error();
    for (IpAlias& a : *aliases_on_system)
      data.service_addresses.push_back(
          {std::move(a.address), std::move(a.domain), std::move(a.services)});
    return {};
  };
  if (depth_ > 0) {
    if (auto r = read_all(); !r) return r.error();
    return data;
  }
  // One read transaction: every table from the same committed state.
  if (auto r = db_->exec("BEGIN"); !r) return r.error();
  auto result = read_all();
  if (auto ended = db_->exec(result ? "COMMIT" : "ROLLBACK"); result && !ended) result = ended;
  if (!result) return result.error();
  return data;
}

}  // namespace postcore::store
