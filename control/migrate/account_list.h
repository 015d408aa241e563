// The account list of CommuniGate Pro's Account Import: a text file whose first line names
// the fields, separated by tabs, and whose other lines give one account each, with the
// values in the same order. `postcorectl import accounts FILE [--domain D]` is built on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/migrate/quota.h"
#include "control/migrate/source_text.h"

namespace postcore::migrate {

struct AccountListOptions {
  // Bare names join this domain; a name@domain must name it. Without it every name must
  // carry its domain.
  std::optional<std::string> domain;
};

struct AccountListEntry {
  std::string local_part;  // lower case, an RFC 5321 dot-atom
  std::string domain;      // lower case
  std::string real_name;   // RealName, trimmed; may be empty
  // Clear text from NewPassword, else from Password; empty when neither gives one.
  std::string password;
  std::string password_hash;   // UnixPassword as given (a crypt(3) string); may be empty
  std::optional<Quota> quota;  // Limit or Quota; none: the domain's default
  uint32_t line = 0;

  std::string address() const { return local_part + "@" + domain; }
};

struct AccountList {
  std::vector<AccountListEntry> accounts;  // in file order
  // Header fields this import does not use, as written, each listed once.
  std::vector<std::string> ignored_fields;
  std::vector<ImportNote> warnings;
};

// Refuses the whole file at the first problem: "FILE:LINE:COLUMN: message", the message
// naming the field.
Result<AccountList> parse_account_list(InputFile file, const AccountListOptions& options);

}  // namespace postcore::migrate
