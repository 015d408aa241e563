// IP aliases: addresses the control plane keeps on the system's interfaces.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>

#include "control/directory/ip_network.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {
namespace {

// Mail services by their usual names; a listener configured for aliases serves the ones
// an alias names.
constexpr std::string_view kServices[] = {"smtp",  "submission", "submissions", "imap",
                                          "imaps", "pop3",       "pop3s"};
constexpr size_t kInterfaceNameMax = 15;  // IFNAMSIZ - 1

Result<void> check_interface_name(std::string_view name, std::string_view what) {
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c <= ' ' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80;
  });
  if (name.empty() || name.size() > kInterfaceNameMax || bad_char || name == "." || name == "..")
    return make_error(EINVAL, fmt::format("{} '{}': not an interface name (1 to {} printable "
                                          "characters, no '/')",
                                          what, name, kInterfaceNameMax));
  return {};
}

std::string describe(const IpAlias& a) {
  std::string out = fmt::format("{}/{} dev {}", a.address, a.prefix, a.interface);
  if (!a.label.empty()) out += " label " + a.label;
  if (!a.domain.empty()) out += " domain " + a.domain;
  if (!a.services.empty()) out += " services " + internal::join(a.services, ",");
  return out;
}

}  // namespace

bool known_alias_service(std::string_view name) {
  return std::find(std::begin(kServices), std::end(kServices), name) != std::end(kServices);
}

Result<IpAlias> Store::add_ip_alias(const Actor& actor, IpAlias alias) {
  // The prefix comes with the address ("192.0.2.25/24") or separately; neither: a host.
  const bool separate = alias.address.find('/') == std::string::npos && alias.prefix != 0;
  auto parsed = directory::parse_interface_address(
      separate ? alias.address + "/" + std::to_string(alias.prefix) : alias.address);
  if (!parsed) return parsed.error();
  alias.address = directory::format_ip_address(parsed->address);
  alias.prefix = parsed->prefix;
  if (auto r = check_interface_name(alias.interface, "interface"); !r) return r.error();
  if (!alias.label.empty()) {
    if (parsed->address.v6)
      return make_error(EINVAL, "labels are for IPv4 addresses only (IPv6 has none)");
    if (alias.label.rfind(alias.interface + ":", 0) != 0 && alias.label != alias.interface)
      alias.label = alias.interface + ":" + alias.label;
    if (auto r = check_interface_name(alias.label, "label"); !r) return r.error();
  }
  std::sort(alias.services.begin(), alias.services.end());
  alias.services.erase(std::unique(alias.services.begin(), alias.services.end()),
                       alias.services.end());
  for (const auto& s : alias.services) {
    if (!known_alias_service(s))
      return make_error(EINVAL, fmt::format("unknown service '{}' (known: smtp, submission, "
                                            "submissions, imap, imaps, pop3, pop3s)",
                                            s));
  }
  auto stored = transaction([&](Store&) -> Result<void> {
    int64_t domain_id = 0;
    if (!alias.domain.empty()) {
      auto domain = find_domain(alias.domain);
      if (!domain) return domain.error();
      domain_id = domain->id;
      alias.domain = domain->name;
    }
    auto present =
        db_->query_integer("SELECT count(*) FROM ip_aliases WHERE address = ?", alias.address);
    if (!present) return present.error();
    if (present->value_or(0) != 0)
      return make_error(EEXIST, fmt::format("IP alias {} already exists", alias.address));
    if (auto r = db_->run("INSERT INTO ip_aliases (address, prefix, interface, label, domain_id, "
                          "services) VALUES (?, ?, ?, ?, NULLIF(?, 0), ?)",
                          alias.address, alias.prefix, alias.interface, alias.label, domain_id,
                          internal::join(alias.services, ","));
        !r)
      return r;
    return record(actor, "ip.add", alias.address, describe(alias));
  });
  if (!stored) return stored.error();
  return alias;
}

Result<IpAlias> Store::remove_ip_alias(const Actor& actor, std::string_view address) {
  auto parsed = directory::parse_interface_address(address);
  if (!parsed) return parsed.error();
  const std::string canonical = directory::format_ip_address(parsed->address);
  IpAlias removed;
  auto done = transaction([&](Store&) -> Result<void> {
    auto found = read_ip_aliases(canonical);
    if (!found) return found.error();
    if (found->empty()) return make_error(ENOENT, "no such IP alias: " + canonical);
    removed = found->front();
    if (auto r = db_->run("DELETE FROM ip_aliases WHERE address = ?", canonical); !r) return r;
    return record(actor, "ip.remove", canonical, describe(removed));
  });
  if (!done) return done.error();
  return removed;
}

Result<std::vector<IpAlias>> Store::list_ip_aliases() {
  return read_ip_aliases();
}

Result<std::vector<IpAlias>> Store::read_ip_aliases(std::string_view address) {
  std::vector<IpAlias> out;
  const std::string sql = fmt::format(
      "SELECT a.address, a.prefix, a.interface, a.label, coalesce(dn.name, ''), a.services "
      "FROM ip_aliases a LEFT JOIN domain_names dn ON dn.domain_id = a.domain_id AND "
      "dn.is_alias = 0 {} ORDER BY a.address",
      address.empty() ? "" : "WHERE a.address = ?");
  auto rows = address.empty() ? db_->query(sql) : db_->query(sql, address);
  if (!rows) return rows.error();
  for (;;) {
    auto more = rows->next();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(IpAlias{rows->text(0), static_cast<int>(rows->integer(1)), rows->text(2),
                          rows->text(3), rows->text(4), internal::split(rows->text(5), ',')});
  }
  return out;
}

}  // namespace postcore::store
