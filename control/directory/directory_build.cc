// Directory::build: normalises a snapshot's data, checks it, and builds the lookup tables.
#include <cerrno>
#include <utility>

#include "control/directory/address_text.h"
#include "control/directory/directory.h"

namespace postcore::directory {
namespace {

namespace text = address_text;

Error invalid(const std::string& message) {
  return make_error(EINVAL, "directory: " + message);
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  out.append(s);
  out.push_back('\'');
  return out;
}

void normalise_domain(std::string& name) {
  name = text::to_lower(text::without_trailing_dot(name));
}

bool bad_name(std::string_view name) {
  return name.empty() || name.find('@') != std::string_view::npos;
}

}  // namespace

Result<std::shared_ptr<const Directory>> Directory::build(DirectoryData data,
                                                          DirectoryLimits limits) {
  // Not make_shared: the constructor is private, and the tables hold views into the
  // object, which therefore never moves once built.
  std::shared_ptr<Directory> directory(new Directory());
  directory->version_ = data.version;
  directory->limits_ = limits;
  directory->data_ = std::move(data);
  for (auto step : {&Directory::index_domains, &Directory::index_objects, &Directory::link_aliases,
                    &Directory::parse_relay_networks, &Directory::check_service_addresses}) {
    if (Result<void> r = (directory.get()->*step)(); !r.ok()) return r.error();
  }
  if (Result<void> r = directory->check_addresses(); !r.ok()) return r.error();
  return std::shared_ptr<const Directory>(std::move(directory));
}

const char* Directory::kind_name(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::account:
      return "account";
    case ObjectKind::account_alias:
      return "account alias";
    case ObjectKind::forwarder:
      return "forwarder";
    case ObjectKind::group:
      return "group";
  }
  return "object";
}

Result<void> Directory::index_domains() {
  for (Domain& d : data_.domains) {
    normalise_domain(d.name);
    for (std::string& alias : d.aliases) normalise_domain(alias);
  }
  // Canonical names first, so that an alias clashing with a domain listed after it is
  // reported as such.
  for (uint32_t i = 0; i < data_.domains.size(); i++) {
    const Domain& d = data_.domains[i];
    if (bad_name(d.name)) return invalid("domain " + quoted(d.name) + " is not a domain name");
    if (!domains_by_name_.emplace(d.name, i).second) {
      return invalid("domain " + quoted(d.name) + " is listed twice");
    }
  }
  for (uint32_t i = 0; i < data_.domains.size(); i++) {
    const Domain& d = data_.domains[i];
    for (const std::string& alias : d.aliases) {
      if (bad_name(alias)) {
        return invalid("domain alias " + quoted(alias) + " of " + quoted(d.name) +
                       " is not a domain name");
      }
      auto [it, added] = domains_by_name_.emplace(alias, i);
      if (added) continue;
      const Domain& other = data_.domains[it->second];
      if (other.name == alias) {
        return invalid("domain alias " + quoted(alias) + " of " + quoted(d.name) +
                       " is also a domain");
      }
      return invalid("domain alias " + quoted(alias) + " of " + quoted(d.name) +
                     " is already an alias of " + quoted(other.name));
    }
  }
  return {};
}

Result<void> Directory::index_objects() {
  objects_.reserve(data_.accounts.size() + data_.account_aliases.size() + data_.forwarders.size() +
                   data_.groups.size());
  auto add = [this](ObjectKind kind, uint32_t index, std::string& name,
                    std::string& domain) -> Result<void> {
    name = text::to_lower(name);
    normalise_domain(domain);
    const char* what = kind_name(kind);
    if (bad_name(name)) {
      return invalid(std::string(what) + " " + quoted(name + "@" + domain) +
                     ": the name must be non-empty and hold no '@'");
    }
    auto domain_it = domains_by_name_.find(domain);
    if (domain_it == domains_by_name_.end()) {
      return invalid(std::string(what) + " " + quoted(name + "@" + domain) + ": " + quoted(domain) +
                     " is not a local domain");
    }
    const std::string& canonical = data_.domains[domain_it->second].name;
    if (canonical != domain) {
      return invalid(std::string(what) + " " + quoted(name + "@" + domain) + ": " + quoted(domain) +
                     " is an alias of " + quoted(canonical) +
                     "; objects belong to the canonical domain");
    }
    bool smtp_enabled =
        kind == ObjectKind::account && (data_.accounts[index].services & service_smtp) != 0;
    objects_.push_back(Object{kind, index, name + "@" + domain, 0, smtp_enabled});
    return {};
  };
  for (uint32_t i = 0; i < data_.accounts.size(); i++) {
    Account& a = data_.accounts[i];
    if (Result<void> r = add(ObjectKind::account, i, a.name, a.domain); !r.ok()) return r;
  }
  for (uint32_t i = 0; i < data_.account_aliases.size(); i++) {
    AccountAlias& a = data_.account_aliases[i];
    a.account = text::to_lower(a.account);
    if (Result<void> r = add(ObjectKind::account_alias, i, a.name, a.domain); !r.ok()) return r;
  }
  for (uint32_t i = 0; i < data_.forwarders.size(); i++) {
    Forwarder& f = data_.forwarders[i];
    if (Result<void> r = add(ObjectKind::forwarder, i, f.name, f.domain); !r.ok()) return r;
  }
  for (uint32_t i = 0; i < data_.groups.size(); i++) {
    Group& g = data_.groups[i];
    if (Result<void> r = add(ObjectKind::group, i, g.name, g.domain); !r.ok()) return r;
  }
  // Only now: objects_ no longer grows, so the views into its addresses stay valid.
  objects_by_address_.reserve(objects_.size());
  for (uint32_t id = 0; id < objects_.size(); id++) {
    auto [it, added] = objects_by_address_.emplace(objects_[id].address, id);
    if (!added) {
      return invalid(quoted(objects_[id].address) + " is defined twice: as " +
                     kind_name(objects_[it->second].kind) + " and as " +
                     kind_name(objects_[id].kind));
    }
  }
  return {};
}

Result<void> Directory::link_aliases() {
  for (Object& object : objects_) {
    if (object.kind != ObjectKind::account_alias) continue;
    const AccountAlias& alias = data_.account_aliases[object.index];
    std::string account_address = alias.account + "@" + alias.domain;
    auto it = objects_by_address_.find(account_address);
    if (alias.account.empty() || it == objects_by_address_.end() ||
        objects_[it->second].kind != ObjectKind::account) {
      return invalid("account alias " + quoted(object.address) + " names " +
                     quoted(account_address) + ", which is not an account");
    }
    object.alias_of = it->second;
  }
  return {};
}

Result<void> Directory::check_addresses() const {
  auto full = [](std::string_view address) { return text::split(address).has_value(); };
  for (const Domain& d : data_.domains) {
    if (!d.catch_all.empty() && !full(d.catch_all)) {
      return invalid("domain " + quoted(d.name) + ": catch-all " + quoted(d.catch_all) +
                     " is not a full address");
    }
  }
  for (const Account& a : data_.accounts) {
    for (const std::string& copy : a.copies_to) {
      if (!full(copy)) {
        return invalid("account " + quoted(a.name + "@" + a.domain) + ": copy to " + quoted(copy) +
                       " is not a full address");
      }
    }
  }
  for (const Forwarder& f : data_.forwarders) {
    if (!full(f.target)) {
      return invalid("forwarder " + quoted(f.name + "@" + f.domain) + ": target " +
                     quoted(f.target) + " is not a full address");
    }
  }
  for (const Group& g : data_.groups) {
    for (const std::string& member : g.members) {
      if (!full(member)) {
        return invalid("group " + quoted(g.name + "@" + g.domain) + ": member " + quoted(member) +
                       " is not a full address");
      }
    }
  }
  return {};
}

Result<void> Directory::parse_relay_networks() {
  relay_networks_.reserve(data_.relay_networks.size());
  for (const std::string& cidr : data_.relay_networks) {
    Result<IpNetwork> network = IpNetwork::parse(cidr);
    if (!network.ok()) return invalid(network.error().message);
    relay_networks_.push_back(*network);
  }
  return {};
}

Result<void> Directory::check_service_addresses() {
  service_ips_.reserve(data_.service_addresses.size());
  for (ServiceAddress& a : data_.service_addresses) {
    std::optional<IpAddress> ip = parse_ip_address(a.address);
    if (!ip) return invalid("service address " + quoted(a.address) + " is not an IP address");
    normalise_domain(a.domain);
    if (!a.domain.empty()) {
      std::optional<uint32_t> domain = find_domain(a.domain);
      if (!domain)
        return invalid("service address " + a.address + ": domain " + quoted(a.domain) +
                       " is not a local domain");
      a.domain = data_.domains[*domain].name;  // the greeting names the canonical domain
    }
    service_ips_.push_back(*ip);
  }
  return {};
}

std::string_view Directory::domain_of_local_address(std::string_view ip) const {
  std::optional<IpAddress> local = parse_ip_address(ip);
  if (!local) return {};
  for (size_t i = 0; i < service_ips_.size(); i++) {
    if (service_ips_[i].v6 == local->v6 && service_ips_[i].bytes == local->bytes)
      return data_.service_addresses[i].domain;
  }
  return {};
}

}  // namespace postcore::directory
