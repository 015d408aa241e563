// What an aliases(5) file becomes in postcore: each alias, with the targets postcore cannot
// deliver to left out, is an account alias (one local target), a forwarder (one remote
// target), a group (several targets), or an account that keeps its mail and forwards a copy
// (the "bob: \bob, bob@elsewhere" idiom). The store applies the plan later; this is only the
// decision, so that --dry-run and the real import show the same thing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/migrate/aliases_file.h"

namespace postcore::migrate {

struct AccountAlias {
  std::string name;     // the alias, lower case, in the file's domain
  std::string account;  // the account or alias it names, lower case, same domain
  uint32_t line = 0;
};

struct Forwarder {
  std::string name;
  std::string address;  // in another domain
  uint32_t line = 0;
};

struct Group {
  std::string name;
  std::vector<std::string> members;  // full addresses: local names get the file's domain
  uint32_t line = 0;
};

struct KeepAndForward {
  std::string account;                  // the alias names itself: this account keeps a copy
  std::vector<std::string> forward_to;  // full addresses
  uint32_t line = 0;
};

struct AliasPlan {
  std::string domain;
  std::vector<AccountAlias> account_aliases;
  std::vector<Forwarder> forwarders;
  std::vector<Group> groups;
  std::vector<KeepAndForward> keep_and_forward;
  // Everything AliasesFile::not_imported holds, then the aliases left with nothing to import.
  std::vector<ImportNote> not_imported;
};

AliasPlan plan_aliases(const AliasesFile& aliases);

}  // namespace postcore::migrate
