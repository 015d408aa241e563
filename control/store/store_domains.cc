// Domains, their aliases and catch-alls.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

// Refuses a domain name already used as a domain or as a domain alias.
Result<void> refuse_domain_taken(SqliteDb& db, const std::string& name) {
  auto rows = db.query(
      "SELECT d.is_alias, c.name FROM domain_names d "
      "JOIN domain_names c ON c.domain_id = d.domain_id AND c.is_alias = 0 WHERE d.name = ?",
      name);
  if (!rows) return rows.error();
  auto found = rows->next();
  if (!found) return found.error();
  if (!*found) return {};
  if (rows->integer(0) == 0)
    return make_error(EEXIST, fmt::format("domain {} already exists", name));
  return make_error(EEXIST,
                    fmt::format("{} already exists as an alias of {}", name, rows->text(1)));
}

// "2 accounts, 1 group": what a domain still holds.
Result<std::string> domain_contents(SqliteDb& db, int64_t domain_id) {
  auto rows = db.query(
      "SELECT kind, count(*) FROM local_names WHERE domain_id = ? GROUP BY kind ORDER BY kind",
      domain_id);
  if (!rows) return rows.error();
  std::vector<std::string> parts;
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) break;
    const int64_t count = rows->integer(1);
    std::string noun(internal::kind_noun(internal::kind_from_column(rows->text(0))));
    parts.push_back(fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s"));
  }
  return internal::join(parts);
}

Result<std::string> catch_all_text(std::string_view address) {
  if (address.empty()) return std::string();
  auto parsed = parse_address(address);
  if (!parsed) return parsed.error();
  return parsed->text();
}

}  // namespace

Result<void> Store::add_domain(const Actor& actor, std::string_view name,
                               const std::vector<std::string>& aliases) {
  auto domain = normalize_domain(name);
  if (!domain) return domain.error();
  std::vector<std::string> alias_names;
  for (const auto& alias : aliases) {
    auto normalized = normalize_domain(alias);
    if (!normalized) return normalized.error();
    if (*normalized == *domain)
      return make_error(EINVAL, fmt::format("domain {} cannot be its own alias", *domain));
    if (std::find(alias_names.begin(), alias_names.end(), *normalized) != alias_names.end())
      return make_error(EINVAL, fmt::format("alias {} given twice", *normalized));
    alias_names.push_back(std::move(*normalized));
  }
  return transaction([&](Store&) -> Result<void> {
    if (auto r = refuse_domain_taken(*db_, *domain); !r) return r;
    for (const auto& alias : alias_names)
      if (auto r = refuse_domain_taken(*db_, alias); !r) return r;
    auto id = db_->query_integer("INSERT INTO domains DEFAULT VALUES RETURNING id");
    if (!id) return id.error();
    const int64_t domain_id = id->value_or(0);
    if (auto r = db_->run("INSERT INTO domain_names (name, domain_id, is_alias) VALUES (?, ?, 0)",
                          *domain, domain_id);
        !r)
      return r;
    for (const auto& alias : alias_names)
      if (auto r = db_->run("INSERT INTO domain_names (name, domain_id, is_alias) VALUES (?, ?, 1)",
                            alias, domain_id);
          !r)
        return r;
    return record(actor, "domain.add", *domain,
                  alias_names.empty() ? "" : "aliases " + internal::join(alias_names));
  });
}

Result<void> Store::remove_domain(const Actor& actor, std::string_view name, bool cascade) {
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(name);
    if (!domain) return domain.error();
    if (domain->via_alias)
      return make_error(EINVAL, fmt::format("{} is an alias of {}, not a domain; remove the alias "
                                            "instead",
                                            *normalize_domain(name), domain->name));
    auto contents = domain_contents(*db_, domain->id);
    if (!contents) return contents.error();
    if (!contents->empty() && !cascade)
      return make_error(ELOOP, fmt::format("domain {} is not empty ({}); remove those first or "
                                           "use cascade",
                                           domain->name, *contents));
    auto domain_data = read_domains({Scope::object, domain->id});
    if (!domain_data) return domain_data.error();
    // Addresses at this domain that other domains' groups and catch-alls name are kept:
    // they become outside addresses, which is right when the domain moved elsewhere.
    // Alias names first: account_aliases rows must go before the accounts they name.
    if (auto r =
            db_->run("DELETE FROM local_names WHERE domain_id = ? AND kind = 'alias'", domain->id);
        !r)
      return r;
    if (auto r = db_->run("DELETE FROM local_names WHERE domain_id = ?", domain->id); !r) return r;
    if (auto r = db_->run("DELETE FROM domains WHERE id = ?", domain->id); !r) return r;
    std::vector<std::string> detail;
    if (!domain_data->empty() && !domain_data->front().aliases.empty())
      detail.push_back("aliases " + internal::join(domain_data->front().aliases));
    if (!contents->empty()) detail.push_back("removed " + *contents);
    std::string text;
    for (const auto& part : detail) text += (text.empty() ? "" : "; ") + part;
    return record(actor, "domain.remove", domain->name, text);
  });
}

Result<directory::Domain> Store::get_domain(std::string_view name) {
  auto domain = find_domain(name);
  if (!domain) return domain.error();
  return internal::only_row(read_domains({Scope::object, domain->id}));
}

Result<std::vector<directory::Domain>> Store::list_domains() {
  return read_domains({});
}

Result<void> Store::add_domain_alias(const Actor& actor, std::string_view domain_name,
                                     std::string_view alias) {
  auto alias_name = normalize_domain(alias);
  if (!alias_name) return alias_name.error();
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(domain_name);
    if (!domain) return domain.error();
    if (auto r = refuse_domain_taken(*db_, *alias_name); !r) return r;
    if (auto r = db_->run("INSERT INTO domain_names (name, domain_id, is_alias) VALUES (?, ?, 1)",
                          *alias_name, domain->id);
        !r)
      return r;
    // Groups may already name addresses at the new alias; they now reach this domain's
    // groups, which can close a cycle.
    std::vector<GroupEdge> sources;
    {
      auto rows = db_->query(
          "SELECT DISTINCT m.group_id, n.name || '@' || dn.name FROM group_members m "
          "JOIN local_names n ON n.id = m.group_id "
          "JOIN domain_names dn ON dn.domain_id = n.domain_id AND dn.is_alias = 0 "
          "WHERE m.domain = ?",
          *alias_name);
      if (!rows) return rows.error();
      for (;;) {
        auto more = rows->next();
        if (!more) return more.error();
        if (!*more) break;
        sources.push_back(GroupEdge{rows->integer(0), rows->text(1)});
      }
    }
    if (auto r = refuse_group_cycles(sources); !r) return r;
    return record(actor, "domain.alias.add", *alias_name, "alias of " + domain->name);
  });
}

Result<void> Store::remove_domain_alias(const Actor& actor, std::string_view alias) {
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(alias);
    if (!domain) {
      if (domain.error().code != ENOENT) return domain.error();
      return make_error(ENOENT, fmt::format("no such domain alias: {}", *normalize_domain(alias)));
    }
    if (!domain->via_alias)
      return make_error(EINVAL, fmt::format("{} is a domain, not a domain alias", domain->name));
    auto alias_name = normalize_domain(alias);
    if (auto r = db_->run("DELETE FROM domain_names WHERE name = ? AND is_alias = 1", *alias_name);
        !r)
      return r;
    return record(actor, "domain.alias.remove", *alias_name, "was an alias of " + domain->name);
  });
}

Result<void> Store::set_catch_all(const Actor& actor, std::string_view domain_name,
                                  std::string_view address) {
  auto catch_all = catch_all_text(address);
  if (!catch_all) return catch_all.error();
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(domain_name);
    if (!domain) return domain.error();
    auto current = read_domains({Scope::object, domain->id});
    if (!current) return current.error();
    const std::string before = current->empty() ? "" : current->front().catch_all;
    if (before == *catch_all) return {};
    if (auto r = db_->run("UPDATE domains SET catch_all = ? WHERE id = ?", *catch_all, domain->id);
        !r)
      return r;
    auto shown = [](const std::string& value) { return value.empty() ? "(none)" : value; };
    return record(actor, "domain.catch_all.set", domain->name,
                  fmt::format("catch-all {} → {}", shown(before), shown(*catch_all)));
  });
}

}  // namespace postcore::store
