// The store's schema, as numbered migration steps. A database records the last step it
// has (PRAGMA user_version) and start-up runs the steps after it, each in its own
// transaction. A later table (IP aliases, routes …) is one more step at the end of the
// list; a step, once released, never changes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "control/store/sqlite_db.h"

namespace postcore::store {

struct Migration {
  int version;           // 1, 2, 3 … with no gaps
  std::string_view sql;  // statements that take version-1 to version
};

// Marks the file as a postcore configuration store ("PCST"), so that start-up never
// "migrates" some other application's SQLite file into one.
constexpr int32_t kApplicationId = 0x50435354;

// The steps this build knows, in order.
std::span<const Migration> schema_migrations();

// Brings the database up to the last of `steps` and returns the version it ends at.
// Refuses (EINVAL) a database from a newer build and a file that belongs to something
// else; a failed step is rolled back and named, and the steps before it stay.
Result<int> migrate(SqliteDb& db, std::span<const Migration> steps);

}  // namespace postcore::store
