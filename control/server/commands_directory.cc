// The directory commands: domains, accounts, account aliases, forwarders, groups.
#include <cerrno>

#include "control/auth/password_hash.h"
#include "control/auth/password_scheme.h"
#include "control/server/control_commands.h"

namespace postcore::control {
namespace {

using nlohmann::json;

json domain_json(const directory::Domain& d) {
  return {{"name", d.name}, {"aliases", d.aliases}, {"catch_all", d.catch_all}};
}

json account_json(const directory::Account& a) {
  return {{"address", a.name + "@" + a.domain},
          {"real_name", a.real_name},
          {"services", services_json(a.services)},
          {"quota_kb", a.quota_kb},
          {"copies_to", a.copies_to},
          {"has_password", !a.password_hash.empty()}};
}

json group_json(const directory::Group& g) {
  return {{"address", g.name + "@" + g.domain}, {"real_name", g.real_name}, {"members", g.members}};
}

// "alice@example.com" → {"alice", "example.com"}; the store validates both parts.
Result<std::pair<std::string, std::string>> split_address(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size())
    return make_error(EINVAL, "\"" + address + "\" is not an address (name@domain)");
  return std::make_pair(address.substr(0, at), address.substr(at + 1));
}

json ok() {
  return json::object();
}

}  // namespace

void ControlCommands::add_domain_commands() {
  add("domain.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto name = a.string("name");
    auto aliases = a.strings("aliases");
    if (!name) return name.error();
    if (!aliases) return aliases.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.add_domain(actor, *name, *aliases); !r) return r.error();
    return ok();
  });
  add("domain.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto name = a.string("name");
    auto cascade = a.boolean("cascade", false);
    if (!name) return name.error();
    if (!cascade) return cascade.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_domain(actor, *name, *cascade); !r) return r.error();
    return ok();
  });
  add("domain.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto domains = store_.list_domains();
    if (!domains) return domains.error();
    json out = json::array();
    for (const auto& d : *domains) out.push_back(domain_json(d));
    return out;
  });
  add("domain.show", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto name = a.string("name");
    if (!name) return name.error();
    if (auto f = a.finish(); !f) return f.error();
    auto d = store_.get_domain(*name);
    if (!d) return d.error();
    return domain_json(*d);
  });
  add("domain.alias.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    auto alias = a.string("alias");
    if (!domain) return domain.error();
    if (!alias) return alias.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.add_domain_alias(actor, *domain, *alias); !r) return r.error();
    return ok();
  });
  add("domain.alias.remove", true,
      [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
        auto alias = a.string("alias");
        if (!alias) return alias.error();
        if (auto f = a.finish(); !f) return f.error();
        if (auto r = store_.remove_domain_alias(actor, *alias); !r) return r.error();
        return ok();
      });
  add("domain.catch_all", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    auto address = a.optional_string("address");
    if (!domain) return domain.error();
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.set_catch_all(actor, *domain, address->value_or("")); !r) return r.error();
    return ok();
  });
}

void ControlCommands::add_account_commands() {
  add("account.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto real_name = a.optional_string("real_name");
    auto password = a.optional_string("password");
    auto services = a.strings("services");  // absent: every service
    auto quota = a.optional_number("quota_kb");
    auto copies = a.strings("copies_to");
    if (!address) return address.error();
    if (!real_name) return real_name.error();
    if (!password) return password.error();
    if (!services) return services.error();
    if (!quota) return quota.error();
    if (!copies) return copies.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parts = split_address(*address);
    if (!parts) return parts.error();
    directory::Account account;
    account.name = parts->first;
    account.domain = parts->second;
    account.real_name = real_name->value_or("");
    account.quota_kb = quota->value_or(0);
    account.copies_to = std::move(*copies);
    if (!services->empty()) {
      auto bits = parse_services(*services);
      if (!bits) return bits.error();
      account.services = *bits;
    }
    if (*password) {
      auto hash = auth::hash_password(**password);
      if (!hash) return hash.error();
      account.password_hash = *hash;
    }
    if (auto r = store_.add_account(actor, account); !r) return r.error();
    return ok();
  });
  add("account.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_account(actor, *address); !r) return r.error();
    return ok();
  });
  add("account.rename", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto new_name = a.string("new_name");
    if (!address) return address.error();
    if (!new_name) return new_name.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.rename_account(actor, *address, *new_name); !r) return r.error();
    return ok();
  });
  add("account.set", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto real_name = a.optional_string("real_name");
    auto services = a.strings("services");
    auto quota = a.optional_number("quota_kb");
    auto password = a.optional_string("password");
    auto copies = a.optional_strings("copies_to");
    if (!address) return address.error();
    if (!real_name) return real_name.error();
    if (!services) return services.error();
    if (!quota) return quota.error();
    if (!password) return password.error();
    if (!copies) return copies.error();
    if (auto f = a.finish(); !f) return f.error();
    store::AccountChanges changes;
    changes.real_name = *real_name;
    changes.quota_kb = *quota;
    changes.copies_to = std::move(*copies);
    if (!services->empty()) {
      auto bits = parse_services(*services);
      if (!bits) return bits.error();
      changes.services = *bits;
    }
    if (*password) {
      auto hash = auth::hash_password(**password);
      if (!hash) return hash.error();
      changes.password_hash = *hash;
    }
    if (auto r = store_.update_account(actor, *address, changes); !r) return r.error();
    return ok();
  });
  // From the dataplane: a login matched a password stored in an older scheme, and this is
  // the same password hashed as yescrypt. Only a well-formed yescrypt hash is taken, and
  // only while the old one is still the account's password.
  add("account.rehash", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto old_hash = a.string("old_hash");
    auto new_hash = a.string("new_hash");
    if (!address) return address.error();
    if (!old_hash) return old_hash.error();
    if (!new_hash) return new_hash.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parsed = auth::parse_stored_password(*new_hash);
    if (!parsed || parsed->scheme != auth::PasswordScheme::kYescrypt)
      return make_error(EINVAL, "new_hash: not a yescrypt hash");
    auto replaced = store_.rehash_password(actor, *address, *old_hash, *new_hash);
    if (!replaced) return replaced.error();
    return json{{"replaced", *replaced}};
  });
  add("account.show", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    auto account = store_.get_account(*address);
    if (!account) return account.error();
    return account_json(*account);
  });
  add("account.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    if (!domain) return domain.error();
    if (auto f = a.finish(); !f) return f.error();
    auto accounts = store_.list_accounts(*domain);
    if (!accounts) return accounts.error();
    json out = json::array();
    for (const auto& acc : *accounts) out.push_back(account_json(acc));
    return out;
  });
}

void ControlCommands::add_name_commands() {
  add("alias.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto account = a.string("account");
    if (!address) return address.error();
    if (!account) return account.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parts = split_address(*address);
    if (!parts) return parts.error();
    // The account may be given as a local part or as a full address in the same domain.
    std::string target = *account;
    if (size_t at = target.rfind('@'); at != std::string::npos) target.resize(at);
    if (auto r = store_.add_account_alias(actor, {parts->first, parts->second, target}); !r)
      return r.error();
    return ok();
  });
  add("alias.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_account_alias(actor, *address); !r) return r.error();
    return ok();
  });
  add("alias.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    if (!domain) return domain.error();
    if (auto f = a.finish(); !f) return f.error();
    auto aliases = store_.list_account_aliases(*domain);
    if (!aliases) return aliases.error();
    json out = json::array();
    for (const auto& al : *aliases)
      out.push_back(
          {{"address", al.name + "@" + al.domain}, {"account", al.account + "@" + al.domain}});
    return out;
  });
  add("forwarder.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto target = a.string("target");
    if (!address) return address.error();
    if (!target) return target.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parts = split_address(*address);
    if (!parts) return parts.error();
    if (auto r = store_.add_forwarder(actor, {parts->first, parts->second, *target}); !r)
      return r.error();
    return ok();
  });
  add("forwarder.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_forwarder(actor, *address); !r) return r.error();
    return ok();
  });
  add("forwarder.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    if (!domain) return domain.error();
    if (auto f = a.finish(); !f) return f.error();
    auto forwarders = store_.list_forwarders(*domain);
    if (!forwarders) return forwarders.error();
    json out = json::array();
    for (const auto& fw : *forwarders)
      out.push_back({{"address", fw.name + "@" + fw.domain}, {"target", fw.target}});
    return out;
  });
  add("group.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto real_name = a.optional_string("real_name");
    auto members = a.strings("members");
    if (!address) return address.error();
    if (!real_name) return real_name.error();
    if (!members) return members.error();
    if (auto f = a.finish(); !f) return f.error();
    auto parts = split_address(*address);
    if (!parts) return parts.error();
    directory::Group g{parts->first, parts->second, real_name->value_or(""), *members};
    if (auto r = store_.add_group(actor, g); !r) return r.error();
    return ok();
  });
  add("group.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_group(actor, *address); !r) return r.error();
    return ok();
  });
  add("group.members.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto group = a.string("group");
    auto member = a.string("member");
    if (!group) return group.error();
    if (!member) return member.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.add_group_member(actor, *group, *member); !r) return r.error();
    return ok();
  });
  add("group.members.remove", true,
      [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
        auto group = a.string("group");
        auto member = a.string("member");
        if (!group) return group.error();
        if (!member) return member.error();
        if (auto f = a.finish(); !f) return f.error();
        if (auto r = store_.remove_group_member(actor, *group, *member); !r) return r.error();
        return ok();
      });
  add("group.show", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    if (!address) return address.error();
    if (auto f = a.finish(); !f) return f.error();
    auto g = store_.get_group(*address);
    if (!g) return g.error();
    return group_json(*g);
  });
  add("group.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto domain = a.string("domain");
    if (!domain) return domain.error();
    if (auto f = a.finish(); !f) return f.error();
    auto groups = store_.list_groups(*domain);
    if (!groups) return groups.error();
    json out = json::array();
    for (const auto& g : *groups) out.push_back(group_json(g));
    return out;
  });
}

}  // namespace postcore::control
