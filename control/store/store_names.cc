// Finding domains and local names, claiming names, and keeping the addresses that groups
// and catch-alls hold in step when a local name goes away or is renamed.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {

using internal::kind_with_article;

Result<Store::DomainRef> Store::find_domain(std::string_view name) {
  auto normalized = normalize_domain(name);
  if (!normalized) return normalized.error();
  auto rows = db_->query(
      "SELECT d.domain_id, c.name, d.is_alias FROM domain_names d "
      "JOIN domain_names c ON c.domain_id = d.domain_id AND c.is_alias = 0 WHERE d.name = ?",
      *normalized);
  if (!rows) return rows.error();
  auto found = rows->next();
  if (!found) return found.error();
  if (!*found) return make_error(ENOENT, fmt::format("no such domain: {}", *normalized));
  return DomainRef{rows->integer(0), rows->text(1), rows->integer(2) != 0};
}

Result<std::optional<Store::NameRef>> Store::find_name(const DomainRef& domain,
                                                       std::string_view local) {
  auto rows = db_->query("SELECT id, kind, name FROM local_names WHERE domain_id = ? AND name = ?",
                         domain.id, local);
  if (!rows) return rows.error();
  auto found = rows->next();
  if (!found) return found.error();
  if (!*found) return std::optional<NameRef>();
  return std::optional<NameRef>(
      NameRef{rows->integer(0), internal::kind_from_column(rows->text(1)), rows->text(2), domain});
}

Result<Store::NameRef> Store::find_object(std::string_view address, NameKind kind) {
  auto parsed = parse_address(address);
  if (!parsed) return parsed.error();
  auto domain = find_domain(parsed->domain);
  if (!domain) return domain.error();
  auto name = find_name(*domain, parsed->local);
  if (!name) return name.error();
  const std::string canonical = parsed->local + "@" + domain->name;
  if (!name->has_value())
    return make_error(ENOENT, fmt::format("no such {}: {}", internal::kind_noun(kind), canonical));
  if ((*name)->kind != kind)
    return make_error(ENOENT,
                      fmt::format("{} is {}, not {}", canonical, kind_with_article((*name)->kind),
                                  kind_with_article(kind)));
  return std::move(**name);
}

Result<void> Store::refuse_taken(const DomainRef& domain, std::string_view local) {
  auto name = find_name(domain, local);
  if (!name) return name.error();
  if (name->has_value())
    return make_error(EEXIST, fmt::format("{} already exists as {}", (*name)->address(),
                                          kind_with_article((*name)->kind)));
  return {};
}

Result<Store::NameRef> Store::insert_name(const DomainRef& domain, std::string_view local,
                                          NameKind kind) {
  if (auto free = refuse_taken(domain, local); !free) return free.error();
  auto id = db_->query_integer(
      "INSERT INTO local_names (domain_id, name, kind) VALUES (?, ?, ?) RETURNING id", domain.id,
      local, internal::kind_column(kind));
  if (!id) return id.error();
  return NameRef{id->value_or(0), kind, std::string(local), domain};
}

namespace {

// The canonical addresses of the groups holding `local` at any name of `domain_id`.
constexpr std::string_view kGroupsNaming =
    "SELECT DISTINCT gn.name || '@' || gd.name FROM group_members m "
    "JOIN local_names gn ON gn.id = m.group_id "
    "JOIN domain_names gd ON gd.domain_id = gn.domain_id AND gd.is_alias = 0 "
    "WHERE m.local_part = ?1 AND m.domain IN (SELECT name FROM domain_names WHERE domain_id = ?2) "
    "ORDER BY 1";

// The domains whose catch-all is `local` at any name of `domain_id`.
constexpr std::string_view kCatchAllsNaming =
    "SELECT c.name FROM domains d "
    "JOIN domain_names c ON c.domain_id = d.id AND c.is_alias = 0 "
    "WHERE d.catch_all IN (SELECT ?1 || '@' || name FROM domain_names WHERE domain_id = ?2) "
    "ORDER BY 1";

Result<std::vector<std::string>> texts(SqliteDb& db, std::string_view sql, std::string_view local,
                                       int64_t domain_id) {
  auto rows = db.query(sql, local, domain_id);
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) return out;
    out.push_back(rows->text(0));
  }
}

}  // namespace

void Store::References::merge(References&& other) {
  auto add = [](std::vector<std::string>& to, std::vector<std::string>& from) {
    to.insert(to.end(), from.begin(), from.end());
    std::sort(to.begin(), to.end());
    to.erase(std::unique(to.begin(), to.end()), to.end());
  };
  add(groups, other.groups);
  add(catch_alls, other.catch_alls);
}

std::string Store::references_detail(const References& references, std::string_view group_verb,
                                     std::string_view catch_all_verb) {
  std::string out;
  if (!references.groups.empty())
    out += fmt::format("; {} {}", group_verb, internal::join(references.groups));
  for (const auto& domain : references.catch_alls)
    out += fmt::format("; catch-all of {} {}", domain, catch_all_verb);
  return out;
}

Result<Store::References> Store::forget_references(const NameRef& object) {
  auto groups = texts(*db_, kGroupsNaming, object.name, object.domain.id);
  if (!groups) return groups.error();
  auto catch_alls = texts(*db_, kCatchAllsNaming, object.name, object.domain.id);
  if (!catch_alls) return catch_alls.error();
  if (auto r = db_->run("DELETE FROM group_members WHERE local_part = ?1 AND domain IN "
                        "(SELECT name FROM domain_names WHERE domain_id = ?2)",
                        object.name, object.domain.id);
      !r)
    return r.error();
  if (auto r = db_->run("UPDATE domains SET catch_all = '' WHERE catch_all IN "
                        "(SELECT ?1 || '@' || name FROM domain_names WHERE domain_id = ?2)",
                        object.name, object.domain.id);
      !r)
    return r.error();
  return References{std::move(*groups), std::move(*catch_alls)};
}

Result<Store::References> Store::rename_references(const NameRef& object,
                                                   std::string_view new_name) {
  auto groups = texts(*db_, kGroupsNaming, object.name, object.domain.id);
  if (!groups) return groups.error();
  auto catch_alls = texts(*db_, kCatchAllsNaming, object.name, object.domain.id);
  if (!catch_alls) return catch_alls.error();
  // A group may already hold the new name (groups may name addresses that do not exist
  // yet); the old entry then goes, rather than the group holding the same address twice.
  if (auto r = db_->run("DELETE FROM group_members WHERE local_part = ?1 AND domain IN "
                        "(SELECT name FROM domain_names WHERE domain_id = ?2) AND EXISTS "
                        "(SELECT 1 FROM group_members o WHERE o.group_id = group_members.group_id "
                        "AND o.local_part = ?3 AND o.domain = group_members.domain)",
                        object.name, object.domain.id, new_name);
      !r)
    return r.error();
  if (auto r = db_->run("UPDATE group_members SET local_part = ?3 WHERE local_part = ?1 AND "
                        "domain IN (SELECT name FROM domain_names WHERE domain_id = ?2)",
                        object.name, object.domain.id, new_name);
      !r)
    return r.error();
  if (auto r = db_->run(
          "UPDATE domains SET catch_all = ?3 || substr(catch_all, instr(catch_all, '@')) "
          "WHERE catch_all IN (SELECT ?1 || '@' || name FROM domain_names WHERE domain_id = ?2)",
          object.name, object.domain.id, new_name);
      !r)
    return r.error();
  return References{std::move(*groups), std::move(*catch_alls)};
}

}  // namespace postcore::store
