// The put_* upserts behind imports: each makes one stored object equal to the one given,
// through the same add/remove/set steps (and audit rows) an operator's commands would
// take, and does nothing at all when the object is already so.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

// A name taken by an object of another kind than the one being put.
Error taken_by_other_kind(const std::string& address, NameKind kind) {
  return make_error(
      EEXIST, fmt::format("{} already exists as {}", address, internal::kind_with_article(kind)));
}

}  // namespace

Result<PutOutcome> Store::put_domain(const Actor& actor, const directory::Domain& wanted) {
  auto name = normalize_domain(wanted.name);
  if (!name) return name.error();
  std::set<std::string> aliases;
  for (const auto& alias : wanted.aliases) {
    auto normalized = normalize_domain(alias);
    if (!normalized) return normalized.error();
    aliases.insert(std::move(*normalized));
  }
  PutOutcome outcome = PutOutcome::unchanged;
  auto done = transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(*name);
    if (!domain && domain.error().code != ENOENT) return domain.error();
    if (!domain) {
      outcome = PutOutcome::created;
      auto added =
          add_domain(actor, *name, std::vector<std::string>(aliases.begin(), aliases.end()));
      if (!added || wanted.catch_all.empty()) return added;
      return set_catch_all(actor, *name, wanted.catch_all);
    }
    if (domain->via_alias)
      return make_error(EEXIST,
                        fmt::format("{} already exists as an alias of {}", *name, domain->name));
    auto current = internal::only_row(read_domains({Scope::object, domain->id}));
    if (!current) return current.error();
    for (const auto& alias : current->aliases) {
      if (aliases.count(alias)) continue;
      if (auto r = remove_domain_alias(actor, alias); !r) return r;
      outcome = PutOutcome::updated;
    }
    for (const auto& alias : aliases) {
      if (std::find(current->aliases.begin(), current->aliases.end(), alias) !=
          current->aliases.end())
        continue;
      if (auto r = add_domain_alias(actor, *name, alias); !r) return r;
      outcome = PutOutcome::updated;
    }
    auto before = audit_rows_written_;
    if (auto r = set_catch_all(actor, *name, wanted.catch_all); !r) return r;
    if (audit_rows_written_ != before) outcome = PutOutcome::updated;
    return {};
  });
  if (!done) return done.error();
  return outcome;
}

Result<PutOutcome> Store::put_name(
    std::string_view domain, const std::string& name, NameKind kind,
    const std::function<Result<void>()>& create,
    const std::function<Result<void>(const NameRef&, const DomainRef&)>& update) {
  PutOutcome outcome = PutOutcome::unchanged;
  auto done = transaction([&](Store&) -> Result<void> {
    auto found_domain = find_domain(domain);
    if (!found_domain) return found_domain.error();
    auto existing = find_name(*found_domain, name);
    if (!existing) return existing.error();
    if (!existing->has_value()) {
      outcome = PutOutcome::created;
      return create();
    }
    const NameRef& found = **existing;
    if (found.kind != kind) return taken_by_other_kind(found.address(), found.kind);
    // Every change is audited: a new audit row is how a change shows.
    const auto before = audit_rows_written_;
    if (auto r = update(found, *found_domain); !r) return r;
    if (audit_rows_written_ != before) outcome = PutOutcome::updated;
    return {};
  });
  if (!done) return done.error();
  return outcome;
}

Result<PutOutcome> Store::put_account(const Actor& actor, const directory::Account& wanted) {
  auto name = normalize_local_part(wanted.name);
  if (!name) return name.error();
  return put_name(
      wanted.domain, *name, NameKind::account, [&] { return add_account(actor, wanted); },
      [&](const NameRef& account, const DomainRef&) {
        return update_account(actor, account.address(),
                              AccountChanges{wanted.real_name, wanted.password_hash,
                                             wanted.services, wanted.quota_kb});
      });
}

Result<PutOutcome> Store::put_account_copies(const Actor& actor, std::string_view address,
                                             const std::vector<std::string>& copies) {
  PutOutcome outcome = PutOutcome::unchanged;
  auto done = transaction([&](Store&) -> Result<void> {
    auto before = audit_rows_written_;
    AccountChanges changes;
    changes.copies_to = copies;
    if (auto r = update_account(actor, address, changes); !r) return r;
    if (audit_rows_written_ != before) outcome = PutOutcome::updated;
    return {};
  });
  if (!done) return done.error();
  return outcome;
}

Result<PutOutcome> Store::put_account_alias(const Actor& actor,
                                            const directory::AccountAlias& wanted) {
  auto name = normalize_local_part(wanted.name);
  if (!name) return name.error();
  auto account_name = normalize_local_part(wanted.account);
  if (!account_name) return account_name.error();
  return put_name(
      wanted.domain, *name, NameKind::alias, [&] { return add_account_alias(actor, wanted); },
      [&](const NameRef& alias, const DomainRef& domain) -> Result<void> {
        auto current = internal::only_row(read_account_aliases({Scope::object, alias.id}));
        if (!current) return current.error();
        if (current->account == *account_name) return {};
        auto account = find_object(*account_name + "@" + domain.name, NameKind::account);
        if (!account) return account.error();
        if (auto r = db_->run("UPDATE account_aliases SET account_id = ? WHERE id = ?", account->id,
                              alias.id);
            !r)
          return r;
        return record(actor, "account_alias.set", alias.address(),
                      fmt::format("for {} (was for {}@{})", account->address(), current->account,
                                  domain.name));
      });
}

Result<PutOutcome> Store::put_forwarder(const Actor& actor, const directory::Forwarder& wanted) {
  auto name = normalize_local_part(wanted.name);
  if (!name) return name.error();
  auto target = parse_address(wanted.target, /*keep_local_case=*/true);
  if (!target) return target.error();
  return put_name(
      wanted.domain, *name, NameKind::forwarder, [&] { return add_forwarder(actor, wanted); },
      [&](const NameRef& forwarder, const DomainRef&) -> Result<void> {
        auto current = internal::only_row(read_forwarders({Scope::object, forwarder.id}));
        if (!current) return current.error();
        if (current->target == target->text()) return {};
        if (auto r = refuse_forwarding_to_itself(forwarder, *target); !r) return r;
        if (auto r = db_->run("UPDATE forwarders SET target = ? WHERE id = ?", target->text(),
                              forwarder.id);
            !r)
          return r;
        return record(actor, "forwarder.set", forwarder.address(),
                      fmt::format("to {} (was to {})", target->text(), current->target));
      });
}

Result<PutOutcome> Store::put_group(const Actor& actor, const directory::Group& wanted) {
  auto name = normalize_local_part(wanted.name);
  if (!name) return name.error();
  std::vector<Address> members;
  std::set<std::string> member_texts;
  for (const auto& member : wanted.members) {
    auto address = parse_address(member);
    if (!address) return address.error();
    if (!member_texts.insert(address->text()).second)
      return make_error(EINVAL, fmt::format("member {} given twice", address->text()));
    members.push_back(std::move(*address));
  }
  return put_name(
      wanted.domain, *name, NameKind::group, [&] { return add_group(actor, wanted); },
      [&](const NameRef& group, const DomainRef&) -> Result<void> {
        auto current = internal::only_row(read_groups({Scope::object, group.id}));
        if (!current) return current.error();
        if (auto r = set_group_real_name(actor, group.address(), wanted.real_name); !r) return r;
        // Removals first and by exact text: a member written under another name of its domain
        // is replaced by the spelling given, not kept as a second entry.
        for (const auto& member : current->members) {
          if (member_texts.count(member)) continue;
          auto address = parse_address(member);
          if (!address) return address.error();
          if (auto r =
                  db_->run("DELETE FROM group_members WHERE group_id = ? AND local_part = ? AND "
                           "domain = ?",
                           group.id, address->local, address->domain);
              !r)
            return r;
          if (auto r = record(actor, "group.member.remove", group.address(), "member " + member);
              !r)
            return r;
        }
        bool added = false;
        for (const auto& member : members) {
          const std::string text = member.text();
          if (std::find(current->members.begin(), current->members.end(), text) !=
              current->members.end())
            continue;
          bool inserted = false;
          auto stored = insert_member(group, text, &inserted);
          if (!stored) return stored.error();
          if (!inserted) return make_error(EINVAL, fmt::format("member {} given twice", text));
          if (auto r = record(actor, "group.member.add", group.address(), "member " + text); !r)
            return r;
          added = true;
        }
        if (added)
          if (auto r = refuse_group_cycles({GroupEdge{group.id, group.address()}}); !r) return r;
        return {};
      });
}

Result<PutOutcome> Store::put_relay_network(const Actor& actor, std::string_view network) {
  auto canonical = normalize_network(network);
  if (!canonical) return canonical.error();
  PutOutcome outcome = PutOutcome::unchanged;
  auto done = transaction([&](Store&) -> Result<void> {
    auto networks = read_relay_networks();
    if (!networks) return networks.error();
    if (std::find(networks->begin(), networks->end(), *canonical) != networks->end()) return {};
    outcome = PutOutcome::created;
    return add_relay_network(actor, *canonical);
  });
  if (!done) return done.error();
  return outcome;
}

}  // namespace postcore::store
