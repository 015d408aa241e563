#include "control/store/schema.h"

#include <fmt/core.h>

#include <cerrno>

#include "common/log.h"

namespace postcore::store {
namespace {

// Version 1: the directory (domains, local names, groups), client networks, the audit
// trail and the directory's publish counter.
//
// Local names of every kind share one table so that "one name per domain, whatever it
// names" is a UNIQUE constraint, and the per-kind tables hang off it by id: renaming an
// account is one UPDATE that every alias (by id) follows. Domain names and domain aliases
// share one table for the same reason; each domain has exactly one canonical name.
// Group members are addresses (possibly outside ones) kept as split text, so renames and
// removals find them by index whichever of a domain's names they were written with.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE directory_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE TABLE domains (
  id INTEGER PRIMARY KEY,
  catch_all TEXT NOT NULL DEFAULT ''
);
CREATE TABLE domain_names (
  name TEXT PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  is_alias INTEGER NOT NULL CHECK (is_alias IN (0, 1))
);
CREATE INDEX domain_names_by_domain ON domain_names (domain_id);
CREATE UNIQUE INDEX domain_canonical_name ON domain_names (domain_id) WHERE is_alias = 0;

CREATE TABLE local_names (
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains (id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('account', 'alias', 'forwarder', 'group')),
  UNIQUE (domain_id, name)
);
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY REFERENCES local_names (id) ON DELETE CASCADE,
  real_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  services INTEGER NOT NULL,
  quota_kb INTEGER NOT NULL
);
CREATE TABLE account_aliases (
  id INTEGER PRIMARY KEY REFERENCES local_names (id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts (id)
);
CREATE INDEX account_aliases_by_account ON account_aliases (account_id);
CREATE TABLE forwarders (
  id INTEGER PRIMARY KEY REFERENCES local_names (id) ON DELETE CASCADE,
  target TEXT NOT NULL
);
CREATE TABLE mail_groups (
  id INTEGER PRIMARY KEY REFERENCES local_names (id) ON DELETE CASCADE,
  real_name TEXT NOT NULL
);
CREATE TABLE group_members (
  group_id INTEGER NOT NULL REFERENCES mail_groups (id) ON DELETE CASCADE,
  local_part TEXT NOT NULL,
  domain TEXT NOT NULL,
  PRIMARY KEY (group_id, local_part, domain)
);
CREATE INDEX group_members_by_address ON group_members (local_part, domain);

CREATE TABLE relay_networks (
  network TEXT PRIMARY KEY
);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  origin TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (time_ms);
)sql";

// Version 2: the addresses that also get a copy of an account's mail, one per line,
// each as parse_address() writes it. Like forwarder targets, they are text: renaming or
// removing what one names leaves it as it is.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE accounts ADD COLUMN copies_to TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: the IP aliases the control plane keeps on the system's interfaces. The
// bound domain follows renames by id and is cleared when the domain goes.
constexpr std::string_view kVersion3 = R"sql(
CREATE TABLE ip_aliases (
  address TEXT PRIMARY KEY,
  prefix INTEGER NOT NULL,
  interface TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  domain_id INTEGER REFERENCES domains (id) ON DELETE SET NULL,
  services TEXT NOT NULL DEFAULT ''
);
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
};

Result<int64_t> pragma_value(SqliteDb& db, const char* pragma) {
  auto value = db.query_integer(fmt::format("PRAGMA {}", pragma));
  if (!value) return value.error();
  return value->value_or(0);
}

// Checks that the file is ours (or empty) and not from a newer build; returns its version.
Result<int> check_ownership(SqliteDb& db, int latest) {
  auto application = pragma_value(db, "application_id");
  if (!application) return application.error();
  auto version = pragma_value(db, "user_version");
  if (!version) return version.error();
  if (*application != kApplicationId) {
    auto tables = db.query_integer("SELECT count(*) FROM sqlite_schema");
    if (!tables) return tables.error();
    if (*application != 0 || tables->value_or(0) != 0)
      return make_error(EINVAL, fmt::format("configuration store {}: not a postcore "
                                            "configuration store (application id {:#x}); "
                                            "refusing to use it",
                                            db.path(), *application));
  }
  if (*version > latest)
    return make_error(EINVAL,
                      fmt::format("configuration store {}: schema version {} is newer than this "
                                  "build understands ({}); refusing to start",
                                  db.path(), *version, latest));
  return static_cast<int>(*version);
}

Result<void> run_step(SqliteDb& db, const Migration& step, int latest) {
  // Re-checked under the write lock: another process may have migrated meanwhile.
  auto current = check_ownership(db, latest);
  if (!current) return current.error();
  if (*current >= step.version) return {};
  if (*current != step.version - 1)
    return make_error(EINVAL, fmt::format("configuration store {}: at schema version {}, "
                                          "cannot apply step {}",
                                          db.path(), *current, step.version));
  if (auto r = db.exec(std::string(step.sql)); !r) return r;
  if (auto r = db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId)); !r) return r;
  return db.exec(fmt::format("PRAGMA user_version = {}", step.version));
}

}  // namespace

std::span<const Migration> schema_migrations() {
  return kMigrations;
}

Result<int> migrate(SqliteDb& db, std::span<const Migration> steps) {
  const int latest = steps.empty() ? 0 : steps.back().version;
  auto version = check_ownership(db, latest);
  if (!version) return version.error();
  for (const Migration& step : steps) {
    if (step.version <= *version) continue;
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
    auto applied = run_step(db, step, latest);
    if (applied) applied = db.exec("COMMIT");
    if (!applied) {
      if (db.in_transaction()) (void)db.exec("ROLLBACK");
      return make_error(applied.error().code,
                        fmt::format("schema migration to version {} failed: {}", step.version,
                                    applied.error().message));
    }
    log::info("store", "{}: schema now at version {}", db.path(), step.version);
    version = step.version;
  }
  return *version;
}

}  // namespace postcore::store
