// Forwarders: a local name whose mail goes to one address.
#include <fmt/core.h>

#include <cerrno>

#include "control/store/input_syntax.h"
#include "control/store/sqlite_db.h"
#include "control/store/store.h"
#include "control/store/store_internal.h"

namespace postcore::store {

Result<void> Store::add_forwarder(const Actor& actor, const directory::Forwarder& forwarder) {
  auto name = normalize_local_part(forwarder.name);
  if (!name) return name.error();
  auto target = parse_address(forwarder.target, /*keep_local_case=*/true);
  if (!target) return target.error();
  return transaction([&](Store&) -> Result<void> {
    auto domain = find_domain(forwarder.domain);
    if (!domain) return domain.error();
    auto added = insert_name(*domain, *name, NameKind::forwarder);
    if (!added) return added.error();
    if (auto r = refuse_forwarding_to_itself(*added, *target); !r) return r;
    if (auto r = db_->run("INSERT INTO forwarders (id, target) VALUES (?, ?)", added->id,
                          target->text());
        !r)
      return r;
    return record(actor, "forwarder.add", added->address(), "to " + target->text());
  });
}

Result<void> Store::refuse_forwarding_to_itself(const NameRef& forwarder, const Address& target) {
  auto local = parse_address(target.text());  // lower-cased, as local names are
  if (!local || local->local != forwarder.name) return {};
  auto domain = find_domain(target.domain);
  if (!domain || domain->id != forwarder.domain.id) return {};
  return make_error(EINVAL,
                    fmt::format("forwarder {} cannot forward to itself", forwarder.address()));
}

Result<void> Store::remove_forwarder(const Actor& actor, std::string_view address) {
  return transaction([&](Store&) -> Result<void> {
    auto forwarder = find_object(address, NameKind::forwarder);
    if (!forwarder) return forwarder.error();
    auto current = internal::only_row(read_forwarders({Scope::object, forwarder->id}));
    if (!current) return current.error();
    auto forgotten = forget_references(*forwarder);
    if (!forgotten) return forgotten.error();
    if (auto r = db_->run("DELETE FROM local_names WHERE id = ?", forwarder->id); !r) return r;
    return record(actor, "forwarder.remove", forwarder->address(),
                  "was to " + current->target +
                      references_detail(*forgotten, "removed from groups", "cleared"));
  });
}

Result<directory::Forwarder> Store::get_forwarder(std::string_view address) {
  auto found = find_object(address, NameKind::forwarder);
  if (!found) return found.error();
  return internal::only_row(read_forwarders({Scope::object, found->id}));
}

Result<std::vector<directory::Forwarder>> Store::list_forwarders(std::string_view domain) {
  auto found = find_domain(domain);
  if (!found) return found.error();
  return read_forwarders({Scope::domain, found->id});
}

}  // namespace postcore::store
