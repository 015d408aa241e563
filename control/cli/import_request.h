// Turning an import file into an admin API request, on the operator's side: the file is
// read and checked here, where its name and positions mean something, and errors come
// out as FILE:LINE:COLUMN. The control plane then applies the whole list as one
// transaction.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "common/result.h"

namespace postcore::cli {

struct AccountImportOptions {
  std::optional<std::string> domain;
  bool dry_run = false;
  bool strong_hashes = false;  // yescrypt at import time instead of at first login
};

// Reads and parses FILE (CommuniGate account list); warnings go to `notes`.
Result<nlohmann::json> account_import_request(const std::string& path,
                                              const AccountImportOptions& options,
                                              std::ostream& notes);

struct PasswdImportOptions {
  std::string domain;
  std::optional<std::string> shadow;  // path
  uint32_t min_uid = 1000;
  bool dry_run = false;
};

// Reads passwd (and shadow) files: one account per login user; skipped users and why go
// to `notes`. The request is the same import.accounts as for account lists.
Result<nlohmann::json> passwd_import_request(const std::string& passwd_path,
                                             const PasswdImportOptions& options,
                                             std::ostream& notes);

// Reads an aliases(5) file; aliases that cannot be imported (":include:", "|command",
// "/file", keep-and-forward) are listed with their lines in `notes`.
Result<nlohmann::json> aliases_import_request(const std::string& path, const std::string& domain,
                                              bool dry_run, std::ostream& notes);

// The account list format again, from an export.accounts reply: an export imports back
// unchanged.
void write_account_list(std::ostream& out, const nlohmann::json& accounts);

}  // namespace postcore::cli
