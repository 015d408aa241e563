#include "control/store/sqlite_db.h"

#include <fmt/core.h>

#include <cerrno>

namespace postcore::store {

Rows::Rows(Rows&& other) noexcept : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_) {
  other.stmt_ = nullptr;
}

Rows::~Rows() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

Result<bool> Rows::next() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(sqlite3_sql(stmt_));
}

std::string Rows::text(int column) const {
  const auto* bytes = sqlite3_column_text(stmt_, column);
  if (bytes == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(bytes),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, int busy_timeout_ms,
                                                 const char* vfs) {
  sqlite3* handle = nullptr;
  // NOMUTEX: one thread owns the store (README), so SQLite's own locking would be waste.
  int rc = sqlite3_open_v2(path.c_str(), &handle,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    std::string message = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return make_error(EIO, fmt::format("configuration store {}: cannot open: {}", path, message));
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  return std::unique_ptr<SqliteDb>(new SqliteDb(handle, path));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

Result<void> SqliteDb::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return make_error(EIO, fmt::format("configuration store {}: {}: {}", path_, sql, text));
}

Result<Rows> SqliteDb::statement(std::string_view sql) {
  if (expect_transaction_ && !in_transaction())
    return make_error(EIO, fmt::format("configuration store {}: the transaction was rolled back "
                                       "after an earlier failure",
                                       path_));
  auto found = cache_.find(std::string(sql));
  if (found != cache_.end() && !found->second.in_use) {
    found->second.in_use = true;
    return Rows(this, found->second.stmt, &found->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK)
    return error(sql);
  if (found != cache_.end()) return Rows(this, stmt, nullptr);  // already running: nested use
  auto& cached = cache_[std::string(sql)];
  cached.stmt = stmt;
  cached.in_use = true;
  return Rows(this, stmt, &cached.in_use);
}

Error SqliteDb::error(std::string_view what) const {
  return make_error(
      EIO, fmt::format("configuration store {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

}  // namespace postcore::store
