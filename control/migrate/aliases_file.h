// A sendmail/Postfix aliases(5) file read for import into one domain: each alias with its
// targets classified, and what cannot be imported listed with its position.
// `postcorectl import aliases FILE --domain D` is built on it; alias_plan.h turns the result
// into account aliases, forwarders and groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/migrate/source_text.h"

namespace postcore::migrate {

struct AliasesOptions {
  std::string domain;  // names in the file, and targets without a domain, belong to it
};

enum class AliasTargetKind {
  local,    // a name in the domain: an account or another alias
  remote,   // an address in another domain
  include,  // :include:/path
  command,  // |command
  file,     // /path
};

struct AliasTarget {
  AliasTargetKind kind = AliasTargetKind::local;
  // local: the name, lower case; remote: local@domain, the domain in lower case; include and
  // file: the path; command: the command line after '|'.
  std::string value;
  uint32_t line = 0;
  uint32_t column = 0;
};

struct AliasEntry {
  std::string name;                  // lower case dot-atom
  std::vector<AliasTarget> targets;  // in file order, repeats dropped
  uint32_t line = 0;
};

struct AliasesFile {
  std::string file;    // the name the notes carry
  std::string domain;  // lower case
  std::vector<AliasEntry> entries;
  // :include:, |command and /file targets, and names or targets that valid aliases(5)
  // syntax allows but an address cannot be (a quoted name with a space, say).
  std::vector<ImportNote> not_imported;
};

// Refuses the whole file at the first syntax error or repeated name:
// "FILE:LINE:COLUMN: message".
Result<AliasesFile> parse_aliases(InputFile file, const AliasesOptions& options);

}  // namespace postcore::migrate
