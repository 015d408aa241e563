#include "control/cli/import_request.h"

#include "control/migrate/account_list.h"
#include "control/migrate/alias_plan.h"
#include "control/migrate/aliases_file.h"
#include "control/migrate/read_file.h"
#include "control/migrate/unix_users.h"

namespace postcore::cli {

Result<nlohmann::json> account_import_request(const std::string& path,
                                              const AccountImportOptions& options,
                                              std::ostream& notes) {
  auto bytes = migrate::read_file(path);
  if (!bytes) return bytes.error();
  auto list = migrate::parse_account_list(migrate::InputFile{path, *bytes},
                                          migrate::AccountListOptions{options.domain});
  if (!list) return list.error();
  for (const auto& w : list->warnings) notes << w.to_string() << "\n";
  nlohmann::json accounts = nlohmann::json::array();
  for (const auto& a : list->accounts) {
    nlohmann::json j = {{"address", a.address()},
                        {"real_name", a.real_name},
                        {"where", path + ":" + std::to_string(a.line)}};
    if (!a.password.empty())
      j["password"] = a.password;
    else if (!a.password_hash.empty())
      j["password_hash"] = a.password_hash;
    if (a.quota) j["quota_kb"] = a.quota->unlimited ? uint64_t{0} : (a.quota->bytes + 1023) / 1024;
    accounts.push_back(std::move(j));
  }
  return nlohmann::json{{"origin", path},
                        {"dry_run", options.dry_run},
                        {"strong_hashes", options.strong_hashes},
                        {"accounts", std::move(accounts)}};
}

Result<nlohmann::json> passwd_import_request(const std::string& passwd_path,
                                             const PasswdImportOptions& options,
                                             std::ostream& notes) {
  auto passwd = migrate::read_file(passwd_path);
  if (!passwd) return passwd.error();
  // InputFile only views the bytes: they live here until parsing is done.
  std::string shadow_bytes;
  std::optional<migrate::InputFile> shadow;
  if (options.shadow) {
    auto bytes = migrate::read_file(*options.shadow);
    if (!bytes) return bytes.error();
    shadow_bytes = std::move(*bytes);
    shadow = migrate::InputFile{*options.shadow, shadow_bytes};
  }
  auto users =
      migrate::parse_unix_users(migrate::InputFile{passwd_path, *passwd}, std::move(shadow),
                                migrate::UnixUsersOptions{options.domain, options.min_uid});
  if (!users) return users.error();
  for (const auto& skipped : users->skipped) notes << skipped.note.to_string() << "\n";
  for (const auto& w : users->warnings) notes << w.to_string() << "\n";
  nlohmann::json accounts = nlohmann::json::array();
  for (const auto& u : users->accounts) {
    accounts.push_back({{"address", u.address()},
                        {"real_name", u.real_name},
                        {"password_hash", u.password_hash},
                        {"where", passwd_path + ":" + std::to_string(u.passwd_line)}});
  }
  return nlohmann::json{{"origin", passwd_path},
                        {"dry_run", options.dry_run},
                        {"strong_hashes", false},
                        {"accounts", std::move(accounts)}};
}

Result<nlohmann::json> aliases_import_request(const std::string& path, const std::string& domain,
                                              bool dry_run, std::ostream& notes) {
  auto bytes = migrate::read_file(path);
  if (!bytes) return bytes.error();
  auto file =
      migrate::parse_aliases(migrate::InputFile{path, *bytes}, migrate::AliasesOptions{domain});
  if (!file) return file.error();
  migrate::AliasPlan plan = migrate::plan_aliases(*file);
  for (const auto& n : plan.not_imported) notes << n.to_string() << "\n";
  auto where = [&](uint32_t line) { return path + ":" + std::to_string(line); };
  nlohmann::json aliases = nlohmann::json::array(), forwarders = nlohmann::json::array(),
                 groups = nlohmann::json::array(), copies = nlohmann::json::array();
  for (const auto& k : plan.keep_and_forward) {
    copies.push_back(
        {{"account", k.account}, {"copies_to", k.forward_to}, {"where", where(k.line)}});
  }
  for (const auto& a : plan.account_aliases)
    aliases.push_back({{"name", a.name}, {"account", a.account}, {"where", where(a.line)}});
  for (const auto& f : plan.forwarders)
    forwarders.push_back({{"name", f.name}, {"target", f.address}, {"where", where(f.line)}});
  for (const auto& g : plan.groups)
    groups.push_back({{"name", g.name}, {"members", g.members}, {"where", where(g.line)}});
  return nlohmann::json{{"origin", path},
                        {"domain", plan.domain},
                        {"dry_run", dry_run},
                        {"account_aliases", std::move(aliases)},
                        {"forwarders", std::move(forwarders)},
                        {"groups", std::move(groups)},
                        {"account_copies", std::move(copies)}};
}

void write_account_list(std::ostream& out, const nlohmann::json& accounts) {
  out << "Name\tUnixPassword\tRealName\tQuota\n";
  for (const auto& a : accounts) {
    uint64_t kb = a["quota_kb"].get<uint64_t>();
    out << a["address"].get<std::string>() << "\t" << a["password_hash"].get<std::string>() << "\t"
        << a["real_name"].get<std::string>() << "\t"
        << (kb == 0 ? std::string("unlimited") : std::to_string(kb) + "K") << "\n";
  }
}

}  // namespace postcore::cli
