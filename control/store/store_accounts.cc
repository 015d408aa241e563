// Accounts and account aliases.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

Result<void> check_services(uint8_t services) {
  if ((services & ~directory::kAllServices) != 0)
    return make_error(EINVAL, fmt::format("invalid services {:#x}: unknown service bits",
                                          static_cast<unsigned>(services)));
  return {};
}

Result<void> check_quota(uint64_t quota_kb) {
  // SQLite integers are signed 64-bit.
  if (quota_kb > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return make_error(EINVAL, fmt::format("invalid quota {} KB: too large", quota_kb));
  return {};
}

// Parses each address (keeping the local part's case, as for a forwarder target) and
// writes it back in its one spelling; an address given twice is refused.
Result<void> normalize_copies(std::optional<std::vector<std::string>>& copies) {
  if (!copies) return {};
  std::vector<std::string> normalized;
  for (const std::string& copy : *copies) {
    auto address = parse_address(copy, /*keep_local_case=*/true);
    if (!address) return address.error();
    std::string text = address->text();
    if (std::find(normalized.begin(), normalized.end(), text) != normalized.end())
      return make_error(EINVAL, fmt::format("copy to {} given twice", text));
    normalized.push_back(std::move(text));
  }
  *copies = std::move(normalized);
  return {};
}

std::string copies_column(const std::vector<std::string>& copies) {
  return internal::join(copies, "\n");
}

std::string copies_text(const std::vector<std::string>& copies) {
  return copies.empty() ? "none" : internal::join(copies);
}

Result<void> check_fields(const AccountChanges& changes) {
  if (changes.real_name)
    if (auto r = internal::check_text_field("real name", *changes.real_name); !r) return r;
  if (changes.password_hash)
    if (auto r = internal::check_text_field("password hash", *changes.password_hash); !r) return r;
  if (changes.services)
    if (auto r = check_services(*changes.services); !r) return r;
  if (changes.quota_kb)
    if (auto r = check_quota(*changes.quota_kb); !r) return r;
  return {};
}

std::string account_detail(const directory::Account& account) {
  return fmt::format(
      "real name \"{}\"; services {}; quota {}{}{}", account.real_name,
      internal::services_text(account.services), internal::quota_text(account.quota_kb),
      account.password_hash.empty() ? "; no password" : "",
      account.copies_to.empty() ? "" : "; copies to " + copies_text(account.copies_to));
}

// What `changes` would change in `account`, for the audit trail; empty: nothing.
std::string change_detail(const directory::Account& account, const AccountChanges& changes) {
  std::vector<std::string> parts;
  if (changes.real_name && *changes.real_name != account.real_name)
    parts.push_back(
        fmt::format("real name \"{}\" → \"{}\"", account.real_name, *changes.real_name));
  if (changes.password_hash && *changes.password_hash != account.password_hash)
    parts.push_back(changes.password_hash->empty() ? "password removed" : "password changed");
  if (changes.services && *changes.services != account.services)
    parts.push_back(fmt::format("services {} → {}", internal::services_text(account.services),
                                internal::services_text(*changes.services)));
  if (changes.quota_kb && *changes.quota_kb != account.quota_kb)
    parts.push_back(fmt::format("quota {} → {}", internal::quota_text(account.quota_kb),
                                internal::quota_text(*changes.quota_kb)));
  if (changes.copies_to && *changes.copies_to != account.copies_to)
    parts.push_back(fmt::format("copies to {} → {}", copies_text(account.copies_to),
                                copies_text(*changes.copies_to)));
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

AccountChanges all_fields(const directory::Account& account) {
  return AccountChanges{account.real_name, account.password_hash, account.services,
                        account.quota_kb, account.copies_to};
}

}  // namespace

Result<void> Store::add_account(const Actor& actor, const directory::Account& given) {
  auto name = normalize_local_part(given.name);
  if (!name) return name.error();
  directory::Account account = given;
  std::optional<std::vector<std::string>> copies = std::move(account.copies_to);
  if (auto r = normalize_copies(copies); !r) return r;
  account.copies_to = std::move(*copies);
  if (auto r = check_fields(all_fields(account)); !r) return r;
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(account.domain);
    if (!domain) return domain.error();
    auto added = insert_name(*domain, *name, NameKind::account);
    if (!added) return added.error();
    if (auto r = db_->run("INSERT INTO accounts (id, real_name, password_hash, services, "
                          "quota_kb, copies_to) VALUES (?, ?, ?, ?, ?, ?)",
                          added->id, account.real_name, account.password_hash,
                          static_cast<int64_t>(account.services),
                          static_cast<int64_t>(account.quota_kb), copies_column(account.copies_to));
        !r)
      return r;
    return record(actor, "account.add", added->address(), account_detail(account));
  });
}

Result<void> Store::remove_account(const Actor& actor, std::string_view address) {
  return transaction([&](Store&) -> Result<void> {
    auto account = find_object(address, NameKind::account);
    if (!account) return account.error();
    std::vector<NameRef> aliases;
    {
      auto rows = db_->query(
          "SELECT n.id, n.name FROM account_aliases a JOIN local_names n ON n.id = a.id "
          "WHERE a.account_id = ? ORDER BY n.name",
          account->id);
      if (!rows) return rows.error();
      for (;;) {
        auto more = rows->next();
        if (!more) return more.error();
        if (!*more) break;
        aliases.push_back(
            NameRef{rows->integer(0), NameKind::alias, rows->text(1), account->domain});
      }
    }
    std::vector<std::string> alias_names;
    References references;
    for (const auto& alias : aliases) {
      alias_names.push_back(alias.address());
      auto forgotten = forget_references(alias);
      if (!forgotten) return forgotten.error();
      references.merge(std::move(*forgotten));
      if (auto r = db_->run("DELETE FROM local_names WHERE id = ?", alias.id); !r) return r;
    }
    auto forgotten = forget_references(*account);
    if (!forgotten) return forgotten.error();
    references.merge(std::move(*forgotten));
    if (auto r = db_->run("DELETE FROM local_names WHERE id = ?", account->id); !r) return r;
    std::string detail =
        alias_names.empty() ? "" : "aliases removed: " + internal::join(alias_names);
    detail += references_detail(references, "removed from groups", "cleared");
    if (detail.starts_with("; ")) detail.erase(0, 2);
    return record(actor, "account.remove", account->address(), detail);
  });
}

Result<void> Store::rename_account(const Actor& actor, std::string_view address,
                                   std::string_view new_name) {
  auto name = normalize_local_part(new_name);
  if (!name) return name.error();
  return transaction([&](Store&) -> Result<void> {
    auto account = find_object(address, NameKind::account);
    if (!account) return account.error();
    if (auto r = refuse_taken(account->domain, *name); !r) return r;
    auto renamed = rename_references(*account, *name);
    if (!renamed) return renamed.error();
    if (auto r = db_->run("UPDATE local_names SET name = ? WHERE id = ?", *name, account->id); !r)
      return r;
    return record(actor, "account.rename", account->address(),
                  fmt::format("new name {}@{}{}", *name, account->domain.name,
                              references_detail(*renamed, "memberships renamed in", "renamed")));
  });
}

Result<void> Store::update_account(const Actor& actor, std::string_view address,
                                   const AccountChanges& given) {
  if (!given.real_name && !given.password_hash && !given.services && !given.quota_kb &&
      !given.copies_to)
    return make_error(EINVAL, "no account fields to change");
  AccountChanges changes = given;
  if (auto r = normalize_copies(changes.copies_to); !r) return r;
  if (auto r = check_fields(changes); !r) return r;
  return transaction([&](Store&) -> Result<void> {
    auto found = find_object(address, NameKind::account);
    if (!found) return found.error();
    auto account = internal::only_row(read_accounts({Scope::object, found->id}));
    if (!account) return account.error();
    const std::string detail = change_detail(*account, changes);
    if (detail.empty()) return {};
    if (auto r = db_->run("UPDATE accounts SET real_name = ?, password_hash = ?, services = ?, "
                          "quota_kb = ?, copies_to = ? WHERE id = ?",
                          changes.real_name.value_or(account->real_name),
                          changes.password_hash.value_or(account->password_hash),
                          static_cast<int64_t>(changes.services.value_or(account->services)),
                          static_cast<int64_t>(changes.quota_kb.value_or(account->quota_kb)),
                          copies_column(changes.copies_to.value_or(account->copies_to)), found->id);
        !r)
      return r;
    return record(actor, "account.set", found->address(), detail);
  });
}

Result<bool> Store::rehash_password(const Actor& actor, std::string_view address,
                                    std::string_view old_hash, std::string_view new_hash) {
  AccountChanges changes;
  changes.password_hash = std::string(new_hash);
  if (auto r = check_fields(changes); !r) return r.error();
  bool replaced = false;
  auto done = transaction([&](Store&) -> Result<void> {
    auto found = find_object(address, NameKind::account);
    if (!found) return found.error();
    auto account = internal::only_row(read_accounts({Scope::object, found->id}));
    if (!account) return account.error();
    if (account->password_hash != old_hash || old_hash == new_hash) return {};
    if (auto r =
            db_->run("UPDATE accounts SET password_hash = ? WHERE id = ?", new_hash, found->id);
        !r)
      return r;
    replaced = true;
    return record(actor, "account.rehash", found->address(), "password stored again as yescrypt");
  });
  if (!done) return done.error();
  return replaced;
}

Result<directory::Account> Store::get_account(std::string_view address) {
  auto found = find_object(address, NameKind::account);
  if (!found) return found.error();
  return internal::only_row(read_accounts({Scope::object, found->id}));
}

Result<std::vector<directory::Account>> Store::list_accounts(std::string_view domain) {
  auto found = find_domain(domain);
  if (!found) return found.error();
  return read_accounts({Scope::domain, found->id});
}

Result<void> Store::add_account_alias(const Actor& actor, const directory::AccountAlias& alias) {
  auto name = normalize_local_part(alias.name);
  if (!name) return name.error();
  auto account_name = normalize_local_part(alias.account);
  if (!account_name) return account_name.error();
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(alias.domain);
    if (!domain) return domain.error();
    auto account = find_object(*account_name + "@" + domain->name, NameKind::account);
    if (!account) return account.error();
    auto added = insert_name(*domain, *name, NameKind::alias);
    if (!added) return added.error();
    if (auto r = db_->run("INSERT INTO account_aliases (id, account_id) VALUES (?, ?)", added->id,
                          account->id);
        !r)
      return r;
    return record(actor, "account_alias.add", added->address(), "for " + account->address());
  });
}

Result<void> Store::remove_account_alias(const Actor& actor, std::string_view address) {
  return transaction([&](Store&) -> Result<void> {
    auto alias = find_object(address, NameKind::alias);
    if (!alias) return alias.error();
    auto current = internal::only_row(read_account_aliases({Scope::object, alias->id}));
    if (!current) return current.error();
    auto forgotten = forget_references(*alias);
    if (!forgotten) return forgotten.error();
    if (auto r = db_->run("DELETE FROM local_names WHERE id = ?", alias->id); !r) return r;
    return record(actor, "account_alias.remove", alias->address(),
                  fmt::format("was for {}@{}{}", current->account, alias->domain.name,
                              references_detail(*forgotten, "removed from groups", "cleared")));
  });
}

Result<directory::AccountAlias> Store::get_account_alias(std::string_view address) {
  auto found = find_object(address, NameKind::alias);
  if (!found) return found.error();
  return internal::only_row(read_account_aliases({Scope::object, found->id}));
}

Result<std::vector<directory::AccountAlias>> Store::list_account_aliases(std::string_view domain) {
  auto found = find_domain(domain);
  if (!found) return found.error();
  return read_account_aliases({Scope::domain, found->id});
}

}  // namespace postcore::store
