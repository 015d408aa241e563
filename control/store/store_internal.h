// Helpers shared by the Store's source files: how name kinds are spelled in the tables and
// in messages, the clock of the audit trail, and checks of free text fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "control/directory/model.h"
#include "control/store/store.h"

namespace postcore::store::internal {

// The `kind` column of local_names.
std::string_view kind_column(NameKind kind);
NameKind kind_from_column(std::string_view column);
// "an account", "a forwarder" …, for "x already exists as …".
std::string_view kind_with_article(NameKind kind);
// "account", "forwarder" …, for "no such …".
std::string_view kind_noun(NameKind kind);

int64_t now_ms();

// Real names and password hashes: any UTF-8 text but no control characters (they would
// break the one-line CLI output and the audit trail), at most 1024 bytes.
Result<void> check_text_field(std::string_view field, std::string_view text);

// "smtp,pop,imap", "none".
std::string services_text(uint8_t services);
std::string quota_text(uint64_t quota_kb);

// Joins with `separator`; split() is its inverse for items without the separator (an
// empty text is no items). Lists kept in one column (copies, services) use both.
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
std::vector<std::string> split(std::string_view text, char separator);

// The only row of a read of one object (the object was found just before).
template <typename T>
Result<T> only_row(Result<std::vector<T>> rows) {
  if (!rows) return rows.error();
  if (rows->size() != 1)
    return make_error(EIO, "configuration store: object vanished while being read");
  return std::move(rows->front());
}

}  // namespace postcore::store::internal
