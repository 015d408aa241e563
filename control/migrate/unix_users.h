// The login users of an old Unix mail server, from its passwd(5) file and, when given, its
// shadow(5) file: one account per user who could log in, with the password hash and the
// real name from GECOS. `postcorectl import passwd PASSWD [--shadow SHADOW] --domain D
// [--min-uid 1000]` is built on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/migrate/source_text.h"

namespace postcore::migrate {

struct UnixUsersOptions {
  std::string domain;
  uint32_t min_uid = 1000;  // Debian's FIRST_UID: lower UIDs are system users
};

struct UnixAccount {
  std::string local_part;     // the login, lower case
  std::string domain;         // lower case
  std::string real_name;      // first comma-separated GECOS field; may be empty
  std::string password_hash;  // a crypt(3) string, never empty or locked
  uint32_t uid = 0;
  // shadow(5) field 8: days since 1970-01-01 on which the login expires; the importer, which
  // knows the date, decides what an expired login means.
  std::optional<int64_t> expires_on_day;
  uint32_t passwd_line = 0;
  uint32_t shadow_line = 0;  // 0: the hash came from the passwd file

  std::string address() const { return local_part + "@" + domain; }
};

enum class SkipReason {
  system_user,      // UID below min_uid
  no_login_shell,   // nologin or false
  locked,           // "!", "*", "!!", "!<hash>", "*LK*", ...
  empty_password,   // anyone could log in: not carried over
  no_shadow_entry,  // passwd says "x" but the shadow file has no line, or was not given
  not_an_address,   // the login cannot be an address local part
  nis_entry,        // "+" / "-" lines of NIS compat mode
};

struct SkippedUser {
  std::string login;  // as written
  SkipReason reason;
  ImportNote note;  // where, and the reason in words
};

struct UnixUsers {
  std::vector<UnixAccount> accounts;  // in passwd order
  std::vector<SkippedUser> skipped;   // in passwd order
  std::vector<ImportNote> warnings;   // e.g. shadow lines for users passwd does not have
};

// Refuses both files at the first malformed line: "FILE:LINE:COLUMN: message".
Result<UnixUsers> parse_unix_users(InputFile passwd, std::optional<InputFile> shadow,
                                   const UnixUsersOptions& options);

}  // namespace postcore::migrate
