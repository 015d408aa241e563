// IP aliases: ip.add, ip.remove, ip.list, ip.sync. The store says what should be; the
// system (read through rtnetlink on every command) says what is. Changes to the system
// are made before the store's transaction commits, so a refused or failed system change
// leaves the store as it was.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "common/log.h"
#include "control/netcfg/alias_drift.h"
#include "control/netcfg/neighbour_announce.h"
#include "control/netcfg/rtnetlink.h"
#include "control/netcfg/tcp_sessions.h"
#include "control/server/control_commands.h"

namespace postcore::control {

using nlohmann::json;

namespace {

constexpr uint16_t kSshPort = 22;

json alias_json(const netcfg::AliasStatus& s) {
  return {{"address", s.alias.address},
          {"prefix", s.alias.prefix},
          {"interface", s.alias.interface},
          {"label", s.alias.label},
          {"domain", s.alias.domain},
          {"services", s.alias.services},
          {"state", netcfg::to_string(s.state)},
          {"actual", s.actual()}};
}

std::optional<netcfg::Interface> find_interface(const std::vector<netcfg::Interface>& all,
                                                const std::string& name) {
  for (const auto& i : all)
    if (i.name == name) return i;
  return std::nullopt;
}

Result<std::vector<netcfg::SystemAddress>> system_addresses(Result<netcfg::Rtnetlink*> nl) {
  if (!nl) return nl.error();
  return (*nl)->addresses();
}

// Every stored alias against the system, then postcore's strays.
Result<std::vector<netcfg::AliasStatus>> alias_states(store::Store& store,
                                                      Result<netcfg::Rtnetlink*> nl) {
  auto stored = store.list_ip_aliases();
  if (!stored) return stored.error();
  auto system = system_addresses(nl);
  if (!system) return system.error();
  return netcfg::compare(*stored, *system);
}

}  // namespace

Result<netcfg::Rtnetlink*> ControlCommands::netlink() {
  if (!netlink_) {
    auto opened = netcfg::Rtnetlink::open();
    if (!opened) return opened.error();
    netlink_ = std::move(*opened);
  }
  return netlink_.get();
}

// Puts a stored alias on its interface and tells the neighbours. An address already
// there, as postcore's, is left as it is.
Result<json> ControlCommands::bring_up(const store::IpAlias& alias) {
  auto nl = netlink();
  if (!nl) return nl.error();
  auto links = (*nl)->interfaces();
  if (!links) return links.error();
  auto link = find_interface(*links, alias.interface);
  if (!link) return make_error(ENODEV, "no interface " + alias.interface + " on this system");
  auto parsed = directory::parse_interface_address(alias.address);
  if (!parsed) return parsed.error();
  auto system = system_addresses(*nl);
  if (!system) return system.error();
  bool present = false;
  for (const auto& a : *system) {
    if (directory::format_ip_address(a.address) != alias.address) continue;
    if (a.proto != netcfg::kAddressProto)
      return make_error(EEXIST, fmt::format("{} is already on {} and postcore did not add it; "
                                            "it never touches addresses it did not add",
                                            alias.address, a.interface));
    // Already there as postcore's (a store restored from a backup, an add whose commit
    // failed): nothing to add, the neighbours are still told.
    present = present || (a.ifindex == link->ifindex && a.prefix == alias.prefix);
  }
  if (!present) {
    auto r = (*nl)->add_address(link->ifindex, parsed->address, alias.prefix, alias.label);
    if (!r && r.error().code == EPERM)
      return make_error(
          EPERM,
          r.error().message + " (postcore-control needs CAP_NET_ADMIN: run postcore up as root)");
    if (!r) return r.error();
    log::info("control", "ip alias {}/{} added on {}", alias.address, alias.prefix,
              alias.interface);
  }
  // An IPv6 address is announced only once it is known to be ours (RFC 4862 5.4).
  if (auto unique = await_duplicate_detection(alias); !unique) {
    (void)take_down({link->ifindex, alias.interface, parsed->address, alias.prefix});
    return unique.error();
  }
  // Neighbours learn the new holder now rather than when their cache entries expire.
  // Failing to announce (a link without ARP) does not undo the address.
  json out = {{"announced", false}};
  if (link->up) {
    if (auto r = netcfg::announce_address(alias.interface, parsed->address); r) {
      out["announced"] = true;
    } else {
      log::warning("control", "ip alias {}: {}", alias.address, r.error().message);
      out["announce_error"] = r.error().message;
    }
  }
  return out;
}

// IPv6 duplicate address detection takes the kernel a second or two after an add; an
// address another host holds is unusable, so the add waits for the outcome (a few
// seconds at most) instead of reporting success for it.
Result<void> ControlCommands::await_duplicate_detection(const store::IpAlias& alias) {
  if (alias.address.find(':') == std::string::npos) return {};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto system = system_addresses(netlink());
    if (!system) return system.error();
    auto it = std::find_if(system->begin(), system->end(), [&](const auto& a) {
      return a.interface == alias.interface &&
             directory::format_ip_address(a.address) == alias.address;
    });
    if (it == system->end() || (!it->tentative && !it->dad_failed)) return {};
    if (it->dad_failed)
      return make_error(EADDRINUSE, fmt::format("another host on {} holds {} (duplicate address "
                                                "detection failed)",
                                                alias.interface, alias.address));
    if (std::chrono::steady_clock::now() > deadline)
      return {};  // still tentative: ip list shows it
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<void> ControlCommands::take_down(const netcfg::SystemAddress& a) {
  auto nl = netlink();
  if (!nl) return nl.error();
  auto r = (*nl)->remove_address(a.ifindex, a.address, a.prefix);
  // Gone already, or with its interface.
  if (!r && r.error().code != EADDRNOTAVAIL && r.error().code != ENODEV) return r;
  log::info("control", "ip alias {}/{} removed from {}", directory::format_ip_address(a.address),
            a.prefix, a.interface);
  return {};
}

// The lockout guard: why taking `alias` away could cut the operator off, or empty.
Result<std::string> ControlCommands::lockout_reason(const store::IpAlias& alias,
                                                    const std::string& ssh_address) {
  if (!ssh_address.empty()) {
    auto ssh = directory::parse_ip_address(ssh_address);
    if (ssh && directory::format_ip_address(*ssh) == alias.address)
      return fmt::format("{} carries your SSH session", alias.address);
  }
  // Someone's, if not the caller's (a postcorectl run without SSH_CONNECTION in reach).
  auto sessions = netcfg::established_to_port(kSshPort);
  if (!sessions) return sessions.error();
  if (std::find(sessions->begin(), sessions->end(), alias.address) != sessions->end())
    return fmt::format("{} carries an SSH session (port {})", alias.address, kSshPort);
  auto nl = netlink();
  if (!nl) return nl.error();
  auto system = (*nl)->addresses();
  if (!system) return system.error();
  auto defaults = (*nl)->default_route_interfaces();
  if (!defaults) return defaults.error();
  const bool v6 = alias.address.find(':') != std::string::npos;
  int ifindex = 0, others = 0;
  for (const auto& s : *system) {
    if (s.interface != alias.interface || s.address.v6 != v6) continue;
    ifindex = s.ifindex;
    if (directory::format_ip_address(s.address) != alias.address &&
        !directory::is_link_local(s.address))
      others++;
  }
  if (ifindex != 0 && others == 0 &&
      std::find(defaults->begin(), defaults->end(), ifindex) != defaults->end())
    return fmt::format("{} is the last {} address of {}, which has the default route",
                       alias.address, v6 ? "IPv6" : "IPv4", alias.interface);
  return std::string();
}

Result<json> ControlCommands::sync_ip_aliases() {
  auto states = alias_states(store_, netlink());
  if (!states) return states.error();
  json actions = json::array();
  for (const auto& s : *states) {
    if (!netcfg::needs_sync(s.state)) continue;
    json action = {{"address", s.alias.address}, {"interface", s.alias.interface}};
    Result<void> done;
    if (s.state == netcfg::AliasState::stray) {
      action["action"] = "removed";
      done = take_down(*s.found);
    } else {
      action["action"] = s.state == netcfg::AliasState::missing ? "added" : "moved";
      if (s.state == netcfg::AliasState::elsewhere) done = take_down(*s.found);
      if (done) {
        auto up = bring_up(s.alias);
        if (!up) done = up.error();
      }
    }
    if (!done) {
      log::warning("control", "ip sync: {}", done.error().message);
      action["error"] = done.error().message;
    }
    actions.push_back(std::move(action));
  }
  return json{{"actions", std::move(actions)}};
}

void ControlCommands::add_ip_commands() {
  add("ip.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto interface = a.string("interface");
    auto label = a.optional_string("label");
    auto domain = a.optional_string("domain");
    auto services = a.strings("services");
    auto check = a.boolean("check", false);
    auto force = a.boolean("force", false);
    if (!address) return address.error();
    if (!interface) return interface.error();
    if (!label) return label.error();
    if (!domain) return domain.error();
    if (!services) return services.error();
    if (!check) return check.error();
    if (!force) return force.error();
    if (auto f = a.finish(); !f) return f.error();
    store::IpAlias alias;
    alias.address = *address;
    alias.interface = *interface;
    alias.label = label->value_or("");
    alias.domain = domain->value_or("");
    alias.services = *services;
    json out;
    auto done = store_.transaction([&](store::Store& s) -> Result<void> {
      auto added = s.add_ip_alias(actor, alias);
      if (!added) return added.error();
      if (*check) {
        auto parsed = directory::parse_interface_address(added->address);
        auto holder = netcfg::probe_address(added->interface, parsed->address);
        if (!holder) return holder.error();
        if (*holder && !*force)
          return make_error(EADDRINUSE,
                            fmt::format("another host ({}) answers for {} on {}; stop it there "
                                        "first, or add the address anyway with --force",
                                        **holder, added->address, added->interface));
        out["holder"] = holder->value_or("");
      }
      auto up = bring_up(*added);
      if (!up) return up.error();
      out.update(*up);
      out["address"] = added->address;
      out["prefix"] = added->prefix;
      out["interface"] = added->interface;
      out["label"] = added->label;
      out["domain"] = added->domain;
      return {};
    });
    if (!done) return done.error();
    return out;
  });
  add("ip.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto address = a.string("address");
    auto force = a.boolean("force", false);
    auto ssh = a.optional_string("ssh_address");
    if (!address) return address.error();
    if (!force) return force.error();
    if (!ssh) return ssh.error();
    if (auto f = a.finish(); !f) return f.error();
    json out;
    auto done = store_.transaction([&](store::Store& s) -> Result<void> {
      auto removed = s.remove_ip_alias(actor, *address);
      if (!removed) return removed.error();
      auto reason = lockout_reason(*removed, ssh->value_or(""));
      if (!reason) return reason.error();
      if (!reason->empty() && !*force)
        return make_error(EPERM, *reason + "; removing it could lock you out (use --force)");
      // Only postcore's own copy of the address goes.
      auto system = system_addresses(netlink());
      if (!system) return system.error();
      for (const auto& present : *system) {
        if (directory::format_ip_address(present.address) != removed->address ||
            present.proto != netcfg::kAddressProto)
          continue;
        if (auto r = take_down(present); !r) return r;
      }
      out = {{"address", removed->address}, {"interface", removed->interface}};
      return {};
    });
    if (!done) return done.error();
    return out;
  });
  add("ip.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto states = alias_states(store_, netlink());
    if (!states) return states.error();
    json out = json::array();
    for (const auto& s : *states) out.push_back(alias_json(s));
    return out;
  });
  add("ip.sync", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto synced = sync_ip_aliases();
    if (!synced) return synced.error();
    for (const auto& action : (*synced)["actions"])
      if (action.contains("error"))
        return make_error(EIO, "ip sync: " + action["error"].get<std::string>());
    return *synced;
  });
}

}  // namespace postcore::control
