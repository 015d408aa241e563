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

}  // namespace postcore::cli
