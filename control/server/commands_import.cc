// Imports: many objects in one transaction, all or nothing, idempotent (a second run of
// the same file changes nothing), with a dry run that reports what would change.
#include <cerrno>
#include <functional>

#include "control/auth/import_hash.h"
#include "control/auth/password_hash.h"
#include "control/auth/password_scheme.h"
#include "control/auth/password_verify.h"
#include "control/server/control_commands.h"

namespace postcore::control {
namespace {

using nlohmann::json;

struct Counts {
  size_t created = 0, updated = 0, unchanged = 0;
  void count(store::PutOutcome o) {
    if (o == store::PutOutcome::created)
      ++created;
    else if (o == store::PutOutcome::updated)
      ++updated;
    else
      ++unchanged;
  }
};

// Runs one import as a single transaction. `body` puts every object and counts the
// outcomes; a dry run does all the work, then rolls it back, so it reports exactly what
// the real run would change.
Result<json> run_import(store::Store& store, bool dry_run,
                        const std::function<Result<void>(store::Store&, Counts&)>& body) {
  constexpr int kDryRun = ECANCELED;  // the error that undoes a dry run
  Counts counts;
  Result<void> done = store.transaction([&](store::Store& st) -> Result<void> {
    if (auto r = body(st, counts); !r) return r;
    if (dry_run) return make_error(kDryRun, "dry run");
    return {};
  });
  if (!done && done.error().code != kDryRun) return done.error();
  return json{{"created", counts.created},
              {"updated", counts.updated},
              {"unchanged", counts.unchanged},
              {"dry_run", dry_run}};
}

// One account of the import, decoded from the request.
struct ImportedAccount {
  std::string address, real_name, password, password_hash, where;
  std::optional<uint64_t> quota_kb;
};

Result<ImportedAccount> decode_account(const json& j) {
  if (!j.is_object()) return make_error(EINVAL, "import.accounts: each account must be an object");
  ImportedAccount a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "quota_kb") {
      if (it->is_null()) continue;
      if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
        return make_error(EINVAL, "import.accounts: quota_kb must be a whole number");
      a.quota_kb = it->get<uint64_t>();
      continue;
    }
    std::string* field = k == "address"         ? &a.address
                         : k == "real_name"     ? &a.real_name
                         : k == "password"      ? &a.password
                         : k == "password_hash" ? &a.password_hash
                         : k == "where"         ? &a.where
                                                : nullptr;
    if (!field) return make_error(EINVAL, "import.accounts: unknown account field \"" + k + "\"");
    if (!it->is_string()) return make_error(EINVAL, "import.accounts: " + k + " must be a string");
    *field = it->get<std::string>();
  }
  if (a.address.empty()) return make_error(EINVAL, "import.accounts: an account has no address");
  return a;
}

Error at(const ImportedAccount& a, const Error& e) {
  return make_error(e.code, (a.where.empty() ? a.address : a.where) + ": " + e.message);
}

}  // namespace

void ControlCommands::add_import_commands() {
  add("import.accounts", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto origin = a.string("origin");
    auto dry_run = a.boolean("dry_run", false);
    auto strong = a.boolean("strong_hashes", false);
    if (!origin) return origin.error();
    if (!dry_run) return dry_run.error();
    if (!strong) return strong.error();
    const json* list = a.raw("accounts");
    if (auto f = a.finish(); !f) return f.error();
    if (!list || !list->is_array())
      return make_error(EINVAL, "import.accounts: \"accounts\" must be a list");

    store::Actor importer{actor.uid, "import:" + *origin};
    return run_import(store_, *dry_run, [&](store::Store& st, Counts& counts) -> Result<void> {
      for (const json& item : *list) {
        auto acc = decode_account(item);
        if (!acc) return acc.error();
        directory::Account account;
        size_t at_sign = acc->address.rfind('@');
        if (at_sign == std::string::npos) return at(*acc, make_error(EINVAL, "not an address"));
        auto existing = st.get_account(acc->address);
        if (existing) {
          account = *existing;
        } else if (existing.error().code == ENOENT) {
          account.name = acc->address.substr(0, at_sign);
          account.domain = acc->address.substr(at_sign + 1);
        } else {
          return at(*acc, existing.error());
        }
        if (!acc->real_name.empty() || !existing) account.real_name = acc->real_name;
        if (acc->quota_kb) account.quota_kb = *acc->quota_kb;
        if (!acc->password.empty()) {
          // Keep a stored hash that already verifies: a second import changes nothing.
          bool same = false;
          if (existing && !existing->password_hash.empty()) {
            auto v = auth::verify_password(existing->password_hash, acc->password);
            same = v && *v;
          }
          if (!same) {
            auto hash = *strong ? auth::hash_password(acc->password)
                                : auth::hash_password_for_import(acc->password);
            if (!hash) return at(*acc, hash.error());
            account.password_hash = *hash;
          }
        } else if (!acc->password_hash.empty()) {
          if (auto parsed = auth::parse_stored_password(acc->password_hash); !parsed)
            return at(*acc, parsed.error());
          account.password_hash = acc->password_hash;
        }
        auto outcome = st.put_account(importer, account);
        if (!outcome) return at(*acc, outcome.error());
        counts.count(*outcome);
      }
      return {};
    });
  });
  // An aliases file's plan (postcorectl decides what each alias becomes): account aliases,
  // forwarders and groups, all in one transaction.
  add("import.aliases", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto origin = a.string("origin");
    auto domain = a.string("domain");
    auto dry_run = a.boolean("dry_run", false);
    const json* aliases = a.raw("account_aliases");
    const json* forwarders = a.raw("forwarders");
    const json* groups = a.raw("groups");
    const json* copies = a.raw("account_copies");
    if (!origin) return origin.error();
    if (!domain) return domain.error();
    if (!dry_run) return dry_run.error();
    if (auto f = a.finish(); !f) return f.error();
    for (const json* list : {aliases, forwarders, groups, copies})
      if (list && !list->is_array())
        return make_error(EINVAL, "import.aliases: every part of the plan must be a list");
    store::Actor importer{actor.uid, "import:" + *origin};
    // Each entry names its line, so an error says where in the file it came from.
    auto text = [](const json& j, const char* key) -> Result<std::string> {
      auto it = j.find(key);
      if (it == j.end() || !it->is_string())
        return make_error(EINVAL, std::string("import.aliases: \"") + key + "\" must be a string");
      return it->get<std::string>();
    };
    return run_import(store_, *dry_run, [&](store::Store& st, Counts& counts) -> Result<void> {
      for (const json& e : aliases ? *aliases : json::array()) {
        auto name = text(e, "name"), account = text(e, "account"), where = text(e, "where");
        if (!name || !account || !where) return make_error(EINVAL, "import.aliases: bad alias");
        auto r = st.put_account_alias(importer, {*name, *domain, *account});
        if (!r) return make_error(r.error().code, *where + ": " + r.error().message);
        counts.count(*r);
      }
      for (const json& e : forwarders ? *forwarders : json::array()) {
        auto name = text(e, "name"), target = text(e, "target"), where = text(e, "where");
        if (!name || !target || !where) return make_error(EINVAL, "import.aliases: bad forwarder");
        auto r = st.put_forwarder(importer, {*name, *domain, *target});
        if (!r) return make_error(r.error().code, *where + ": " + r.error().message);
        counts.count(*r);
      }
      for (const json& e : groups ? *groups : json::array()) {
        auto name = text(e, "name"), where = text(e, "where");
        if (!name || !where || !e.contains("members") || !e["members"].is_array())
          return make_error(EINVAL, "import.aliases: bad group");
        directory::Group g{*name, *domain, "", {}};
        for (const auto& m : e["members"]) {
          if (!m.is_string()) return make_error(EINVAL, "import.aliases: bad group member");
          g.members.push_back(m.get<std::string>());
        }
        auto r = st.put_group(importer, g);
        if (!r) return make_error(r.error().code, *where + ": " + r.error().message);
        counts.count(*r);
      }
      // "name: \\name, other@…": the account keeps its mail and sends copies on. The
      // account itself comes from the account import, which must run first.
      for (const json& e : copies ? *copies : json::array()) {
        auto account = text(e, "account"), where = text(e, "where");
        if (!account || !where || !e.contains("copies_to") || !e["copies_to"].is_array())
          return make_error(EINVAL, "import.aliases: bad account copies");
        std::vector<std::string> to;
        for (const auto& t : e["copies_to"]) {
          if (!t.is_string()) return make_error(EINVAL, "import.aliases: bad account copy");
          to.push_back(t.get<std::string>());
        }
        auto r = st.put_account_copies(importer, *account + "@" + *domain, to);
        if (!r && r.error().code == ENOENT) {
          return make_error(ENOENT, *where + ": " + *account + " keeps a copy of its mail, but " +
                                        r.error().message +
                                        " (import the accounts before the aliases)");
        }
        if (!r) return make_error(r.error().code, *where + ": " + r.error().message);
        counts.count(*r);
      }
      return {};
    });
  });
  // Everything import.accounts needs to recreate the accounts, password hashes included
  // (the socket admits only root and the admin group).
  add("export.accounts", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto domain = a.optional_string("domain");
    if (!domain) return domain.error();
    if (auto f = a.finish(); !f) return f.error();
    std::vector<std::string> domains;
    if (*domain) {
      domains.push_back(**domain);
    } else {
      auto all = store_.list_domains();
      if (!all) return all.error();
      for (const auto& d : *all) domains.push_back(d.name);
    }
    json out = json::array();
    for (const auto& d : domains) {
      auto accounts = store_.list_accounts(d);
      if (!accounts) return accounts.error();
      for (const auto& acc : *accounts)
        out.push_back({{"address", acc.name + "@" + acc.domain},
                       {"real_name", acc.real_name},
                       {"password_hash", acc.password_hash},
                       {"quota_kb", acc.quota_kb}});
    }
    return out;
  });
}

}  // namespace postcore::control
