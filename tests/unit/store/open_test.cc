// Opening the store: settings, schema migrations from empty and on re-open, refusing a
// newer or foreign database, and how a failed migration step is contained.
#include <sqlite3.h>

#include <cerrno>

#include "control/store/schema.h"
#include "control/store/sqlite_db.h"
#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

// Runs `sql` on its own connection and returns the first column of the first row.
std::string query_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr)
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

TEST(OpenTest, CreatesAFreshStoreAtTheLatestVersion) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const int latest = schema_migrations().back().version;
  EXPECT_EQ((*store)->schema_version(), latest);
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), std::to_string(latest));
  EXPECT_EQ(query_text(path, "PRAGMA application_id"), std::to_string(kApplicationId));
  EXPECT_EQ(query_text(path, "PRAGMA journal_mode"), "wal");
  auto version = (*store)->version();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 0u);
  EXPECT_TRUE((*store)->list_domains()->empty());
}

TEST(OpenTest, MigrationStepsAreNumberedWithoutGaps) {
  int expected = 1;
  for (const Migration& step : schema_migrations()) EXPECT_EQ(step.version, expected++);
}

TEST(OpenTest, ReopeningKeepsEverythingAndMigratesNothing) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok());
    STORE_OK((*store)->add_domain(kAdmin, "example.com"));
    STORE_OK((*store)->add_account(kAdmin, account("alice", "example.com")));
  }
  for (int i = 0; i < 2; ++i) {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_TRUE((*store)->get_account("alice@example.com").ok());
    EXPECT_EQ(*(*store)->version(), 2u);
    EXPECT_EQ((*store)->audit(100)->size(), 2u);
  }
}

TEST(OpenTest, SettingsHoldOnEveryConnection) {
  TempDir dir;
  auto store = Store::open(dir.file("config.db"));
  ASSERT_TRUE(store.ok());
  // Foreign keys are on: the schema's own guard against a dangling alias works.
  STORE_OK((*store)->add_domain(kAdmin, "example.com"));
  STORE_OK((*store)->add_account(kAdmin, account("alice", "example.com")));
  STORE_OK((*store)->add_account_alias(kAdmin, {"al", "example.com", "alice"}));
  STORE_OK((*store)->remove_account(kAdmin, "alice@example.com"));
  EXPECT_EQ(query_text(dir.file("config.db"), "SELECT count(*) FROM account_aliases"), "0");
}

TEST(OpenTest, RefusesADatabaseFromANewerBuild) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  { ASSERT_TRUE(Store::open(path).ok()); }
  exec(path, "PRAGMA user_version = 99");
  auto refused = Store::open(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EINVAL);
  EXPECT_EQ(refused.error().message,
            fmt::format("configuration store {}: schema version 99 is newer than this build "
                        "understands ({}); refusing to start",
                        path, schema_migrations().back().version));
  // Nothing was changed by the attempt.
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), "99");
}

TEST(OpenTest, RefusesSomeOtherApplicationsDatabase) {
  TempDir dir;
  const std::string foreign = dir.file("foreign.db");
  exec(foreign, "CREATE TABLE notes (text TEXT)");
  auto refused = Store::open(foreign);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EINVAL);
  EXPECT_EQ(refused.error().message,
            "configuration store " + foreign +
                ": not a postcore configuration store (application id 0x0); refusing to use it");
  const std::string other_id = dir.file("other.db");
  exec(other_id, "PRAGMA application_id = 1234");
  refused = Store::open(other_id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "configuration store " + other_id +
                ": not a postcore configuration store (application id 0x4d2); refusing to use it");
}

TEST(OpenTest, AnUnopenableFileIsAnIoError) {
  auto refused = Store::open("/nonexistent-dir/config.db");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EIO);
  EXPECT_EQ(refused.error().message,
            "configuration store /nonexistent-dir/config.db: cannot open: unable to open "
            "database file");
}

TEST(MigrateTest, EachStepIsItsOwnTransactionAndAFailedOneIsNamed) {
  TempDir dir;
  auto db = SqliteDb::open(dir.file("m.db"), 1000);
  ASSERT_TRUE(db.ok());
  const Migration broken[] = {
      {1, "CREATE TABLE a (x INTEGER)"},
      {2, "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1)"},
      {3, "CREATE TABLE c (x INTEGER); INSERT INTO nowhere VALUES (1)"},
  };
  auto failed = migrate(**db, broken);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, EIO);
  EXPECT_TRUE(failed.error().message.starts_with("schema migration to version 3 failed: "))
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("no such table: nowhere"), std::string::npos);
  EXPECT_EQ(query_text(dir.file("m.db"), "PRAGMA user_version"), "2");
  EXPECT_EQ(query_text(dir.file("m.db"), "SELECT count(*) FROM b"), "1");
  EXPECT_EQ(query_text(dir.file("m.db"), "SELECT count(*) FROM sqlite_schema WHERE name = 'c'"),
            "0");

  // Fixed, the next start runs only the missing step.
  const Migration fixed[] = {
      broken[0],
      broken[1],
      {3, "CREATE TABLE c (x INTEGER)"},
  };
  auto migrated = migrate(**db, fixed);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  EXPECT_EQ(*migrated, 3);
  EXPECT_EQ(query_text(dir.file("m.db"), "SELECT count(*) FROM b"), "1");
}

TEST(MigrateTest, ALaterTableIsOneMoreStep) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok());
    STORE_OK((*store)->add_domain(kAdmin, "example.com"));
  }
  std::vector<Migration> steps(schema_migrations().begin(), schema_migrations().end());
  const int next = steps.back().version + 1;
  steps.push_back({next, "CREATE TABLE routes (domain TEXT PRIMARY KEY)"});
  auto db = SqliteDb::open(path, 1000);
  ASSERT_TRUE(db.ok());
  auto migrated = migrate(**db, steps);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  EXPECT_EQ(*migrated, next);
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM domain_names"), "1");
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM routes"), "0");
  // This build's Store does not know that step, so it now refuses the file.
  auto refused = Store::open(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EINVAL);
}

}  // namespace
}  // namespace postcore::store::testing
