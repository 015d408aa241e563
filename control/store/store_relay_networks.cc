// Client networks allowed to relay to outside domains.
#include <fmt/core.h>

#include <cerrno>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"

namespace postcore::store {

Result<void> Store::add_relay_network(const Actor& actor, std::string_view network) {
  auto canonical = normalize_network(network);
  if (!canonical) return canonical.error();
  return transaction([&](Store&) -> Result<void> {
    auto present =
        db_->query_integer("SELECT count(*) FROM relay_networks WHERE network = ?", *canonical);
    if (!present) return present.error();
    if (present->value_or(0) != 0)
      return make_error(EEXIST, fmt::format("relay network {} already exists", *canonical));
    if (auto r = db_->run("INSERT INTO relay_networks (network) VALUES (?)", *canonical); !r)
      return r;
    return record(actor, "relay_network.add", *canonical, "");
  });
}

Result<void> Store::remove_relay_network(const Actor& actor, std::string_view network) {
  auto canonical = normalize_network(network);
  if (!canonical) return canonical.error();
  return transaction([&](Store&) -> Result<void> {
    if (auto r = db_->run("DELETE FROM relay_networks WHERE network = ?", *canonical); !r) return r;
    if (db_->changes() == 0)
      return make_error(ENOENT, fmt::format("no such relay network: {}", *canonical));
    return record(actor, "relay_network.remove", *canonical, "");
  });
}

Result<std::vector<std::string>> Store::list_relay_networks() {
  return read_relay_networks();
}

}  // namespace postcore::store
