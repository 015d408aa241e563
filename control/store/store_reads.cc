// Reading objects back as the directory model: one query per table, shared by get_*,
// list_* and load_directory, ordered by canonical domain and name so that two snapshots
// of the same data compare equal.
#include <fmt/core.h>

#include <algorithm>
#include <unordered_map>

#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

std::string scoped(std::string_view select, std::string_view where, std::string_view order) {
  return fmt::format("{} WHERE {} ORDER BY {}", select, where, order);
}

// Runs `sql` (with the scope's id when it has one) and calls `row` for each row.
template <typename Row>
Result<void> each_row(SqliteDb& db, const std::string& sql, bool bind_id, int64_t id, Row row) {
  auto rows = bind_id ? db.query(sql, id) : db.query(sql);
  if (!rows) return rows.error();
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) return {};
    row(*rows);
  }
}

// The canonical domain name of local_names row `n`.
constexpr std::string_view kNameJoin =
    "JOIN domain_names dn ON dn.domain_id = n.domain_id AND dn.is_alias = 0";

}  // namespace

Result<std::vector<directory::Domain>> Store::read_domains(Scope scope) {
  std::vector<directory::Domain> domains;
  std::unordered_map<int64_t, size_t> index;
  const bool bind = scope.by != Scope::all;
  auto read = each_row(*db_,
                       scoped("SELECT d.id, dn.name, d.catch_all FROM domains d "
                              "JOIN domain_names dn ON dn.domain_id = d.id AND dn.is_alias = 0",
                              scope.pick("1", "d.id = ?1", "d.id = ?1"), "dn.name"),
                       bind, scope.id, [&](Rows& r) {
                         index[r.integer(0)] = domains.size();
                         domains.push_back(directory::Domain{r.text(1), {}, r.text(2)});
                       });
  if (!read) return read.error();
  read = each_row(*db_,
                  scoped("SELECT domain_id, name FROM domain_names",
                         scope.pick("is_alias = 1", "is_alias = 1 AND domain_id = ?1",
                                    "is_alias = 1 AND domain_id = ?1"),
                         "name"),
                  bind, scope.id, [&](Rows& r) {
                    auto found = index.find(r.integer(0));
                    if (found != index.end()) domains[found->second].aliases.push_back(r.text(1));
                  });
  if (!read) return read.error();
  return domains;
}

Result<std::vector<directory::Account>> Store::read_accounts(Scope scope) {
  std::vector<directory::Account> accounts;
  auto read = each_row(
      *db_,
      scoped(fmt::format("SELECT n.name, dn.name, a.real_name, a.password_hash, a.services, "
                         "a.quota_kb, a.copies_to FROM accounts a "
                         "JOIN local_names n ON n.id = a.id {}",
                         kNameJoin),
             scope.pick("1", "n.domain_id = ?1", "a.id = ?1"), "dn.name, n.name"),
      scope.by != Scope::all, scope.id, [&](Rows& r) {
        directory::Account& a = accounts.emplace_back(directory::Account{
            r.text(0), r.text(1), r.text(2), r.text(3), static_cast<uint8_t>(r.integer(4)),
            static_cast<uint64_t>(r.integer(5))});
        a.copies_to = internal::split(r.text(6), '\n');  // one address per line
      });
  if (!read) return read.error();
  return accounts;
}

Result<std::vector<directory::AccountAlias>> Store::read_account_aliases(Scope scope) {
  std::vector<directory::AccountAlias> aliases;
  auto read =
      each_row(*db_,
               scoped(fmt::format("SELECT n.name, dn.name, t.name FROM account_aliases a "
                                  "JOIN local_names n ON n.id = a.id "
                                  "JOIN local_names t ON t.id = a.account_id {}",
                                  kNameJoin),
                      scope.pick("1", "n.domain_id = ?1", "a.id = ?1"), "dn.name, n.name"),
               scope.by != Scope::all, scope.id, [&](Rows& r) {
                 aliases.push_back(directory::AccountAlias{r.text(0), r.text(1), r.text(2)});
               });
  if (!read) return read.error();
  return aliases;
}

Result<std::vector<directory::Forwarder>> Store::read_forwarders(Scope scope) {
  std::vector<directory::Forwarder> forwarders;
  auto read =
      each_row(*db_,
               scoped(fmt::format("SELECT n.name, dn.name, f.target FROM forwarders f "
                                  "JOIN local_names n ON n.id = f.id {}",
                                  kNameJoin),
                      scope.pick("1", "n.domain_id = ?1", "f.id = ?1"), "dn.name, n.name"),
               scope.by != Scope::all, scope.id, [&](Rows& r) {
                 forwarders.push_back(directory::Forwarder{r.text(0), r.text(1), r.text(2)});
               });
  if (!read) return read.error();
  return forwarders;
}

Result<std::vector<directory::Group>> Store::read_groups(Scope scope) {
  std::vector<directory::Group> groups;
  std::unordered_map<int64_t, size_t> index;
  const bool bind = scope.by != Scope::all;
  auto read =
      each_row(*db_,
               scoped(fmt::format("SELECT g.id, n.name, dn.name, g.real_name FROM mail_groups g "
                                  "JOIN local_names n ON n.id = g.id {}",
                                  kNameJoin),
                      scope.pick("1", "n.domain_id = ?1", "g.id = ?1"), "dn.name, n.name"),
               bind, scope.id, [&](Rows& r) {
                 index[r.integer(0)] = groups.size();
                 groups.push_back(directory::Group{r.text(1), r.text(2), r.text(3), {}});
               });
  if (!read) return read.error();
  // Members in the order they were added (rowid).
  read = each_row(
      *db_,
      scoped("SELECT m.group_id, m.local_part || '@' || m.domain FROM group_members m "
             "JOIN local_names n ON n.id = m.group_id",
             scope.pick("1", "n.domain_id = ?1", "m.group_id = ?1"), "m.group_id, m.rowid"),
      bind, scope.id, [&](Rows& r) {
        auto found = index.find(r.integer(0));
        if (found != index.end()) groups[found->second].members.push_back(r.text(1));
      });
  if (!read) return read.error();
  return groups;
}

Result<std::vector<std::string>> Store::read_relay_networks() {
  std::vector<std::string> networks;
  auto read = each_row(*db_, "SELECT network FROM relay_networks ORDER BY network", false, 0,
                       [&](Rows& r) { networks.push_back(r.text(0)); });
  if (!read) return read.error();
  return networks;
}

}  // namespace postcore::store
