// One SQLite connection with its prepared statements. Statements are prepared once and
// reused (an import runs millions of them), arguments are bound by position, and every
// SQLite failure comes back as an Error with code EIO naming the database file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "common/result.h"

namespace postcore::store {

class SqliteDb;

// One execution of a prepared statement, read row by row. Gives the statement back
// (reset, bindings cleared) when it goes away.
class Rows {
 public:
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&&) = delete;
  ~Rows();

  // True: a row is ready to read. False: no more rows.
  Result<bool> next();
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;

 private:
  friend class SqliteDb;
  Rows(SqliteDb* db, sqlite3_stmt* stmt, bool* in_use) : db_(db), stmt_(stmt), in_use_(in_use) {}

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache's flag for this statement; null: this Rows owns a one-off copy
};

class SqliteDb {
 public:
  // `vfs`: the name of the VFS to open it with; null for SQLite's default.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, int busy_timeout_ms,
                                                const char* vfs = nullptr);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without parameters (schema steps, BEGIN, COMMIT).
  Result<void> exec(const std::string& sql);

  template <typename... Args>
  Result<Rows> query(std::string_view sql, const Args&... args) {
    auto rows = statement(sql);
    if (!rows) return rows;
    int index = 0;
    bool bound = (bind(rows->stmt_, ++index, args) && ...);
    if (!bound) return error("binding parameters");
    return rows;
  }

  // Runs a statement that returns no rows (or whose rows do not matter) to the end.
  template <typename... Args>
  Result<void> run(std::string_view sql, const Args&... args) {
    auto rows = query(sql, args...);
    if (!rows) return rows.error();
    for (;;) {
      auto more = rows->next();
      if (!more) return more.error();
      if (!*more) return {};
    }
  }

  // The first column of the first row; nothing when there is no row.
  template <typename... Args>
  Result<std::optional<int64_t>> query_integer(std::string_view sql, const Args&... args) {
    auto rows = query(sql, args...);
    if (!rows) return rows.error();
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) return std::optional<int64_t>();
    return std::optional<int64_t>(rows->integer(0));
  }

  // While set, a statement found running outside a transaction is an error: SQLite rolls
  // a whole transaction back by itself after some failures (disk full, I/O), and the
  // statements that follow must not quietly commit one by one.
  void expect_transaction(bool expected) { expect_transaction_ = expected; }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  int64_t changes() const { return sqlite3_changes64(db_); }
  // The bytes reserved at the end of each page; `set` (0..255) asks for that many from
  // the next time the database is written whole (a new database, VACUUM).
  int page_reserve(int set = -1) {
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_RESERVE_BYTES, &set);
    return set;
  }
  const std::string& path() const { return path_; }

  // The connection's last failure: EIO, "configuration store PATH: WHAT: sqlite message".
  Error error(std::string_view what) const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<Rows> statement(std::string_view sql);

  static bool bind(sqlite3_stmt* stmt, int index, std::string_view value) {
    return sqlite3_bind_text64(stmt, index, value.data(), value.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8) == SQLITE_OK;
  }
  static bool bind(sqlite3_stmt* stmt, int index, const std::string& value) {
    return bind(stmt, index, std::string_view(value));
  }
  static bool bind(sqlite3_stmt* stmt, int index, const char* value) {
    return bind(stmt, index, std::string_view(value));
  }
  template <typename Integer, typename = std::enable_if_t<std::is_integral_v<Integer>>>
  static bool bind(sqlite3_stmt* stmt, int index, Integer value) {
    return sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(value)) == SQLITE_OK;
  }

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, Cached> cache_;
  bool expect_transaction_ = false;
};

}  // namespace postcore::store
