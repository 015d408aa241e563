#include "control/cli/import_request.h"

#include "control/migrate/account_list.h"
#include "control/migrate/read_file.h"

namespace postcore::cli {

Result<nlohmann::json> account_import_request(const std::string& path,
                                              const AccountImportOptions& options,
                                              std::ostream& notes) {
  auto bytes = migrate::read_file(path);
  if (!bytes) return bytes.error();
  auto list = migrate::parse_account_list(migrate::InputFile{path, std::move(*bytes)},
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

}  // namespace postcore::cli
