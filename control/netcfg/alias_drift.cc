#include "control/netcfg/alias_drift.h"

#include <algorithm>

namespace postcore::netcfg {

std::string_view to_string(AliasState state) {
  switch (state) {
    case AliasState::up:
      return "up";
    case AliasState::tentative:
      return "tentative";
    case AliasState::dad_failed:
      return "dad-failed";
    case AliasState::missing:
      return "missing";
    case AliasState::elsewhere:
      return "elsewhere";
    case AliasState::foreign:
      return "foreign";
    case AliasState::stray:
      return "stray";
  }
  return "?";
}

bool needs_sync(AliasState state) {
  return state == AliasState::missing || state == AliasState::elsewhere ||
         state == AliasState::stray;
}

std::string AliasStatus::actual() const {
  if (!found || (state != AliasState::elsewhere && state != AliasState::foreign)) return {};
  return found->interface + " /" + std::to_string(found->prefix);
}

std::vector<AliasStatus> compare(const std::vector<store::IpAlias>& stored,
                                 const std::vector<SystemAddress>& system) {
  std::vector<AliasStatus> out;
  std::vector<const SystemAddress*> reported;  // the wrong places of elsewhere aliases
  auto in_place = [](const SystemAddress& s, const store::IpAlias& a) {
    return s.interface == a.interface && s.prefix == a.prefix;
  };
  for (const store::IpAlias& alias : stored) {
    AliasStatus status{alias, AliasState::missing, std::nullopt};
    // The address may be on several interfaces; the one where it belongs decides.
    const SystemAddress* best = nullptr;
    for (const SystemAddress& s : system) {
      if (directory::format_ip_address(s.address) != alias.address) continue;
      if (!best || in_place(s, alias)) best = &s;
      if (in_place(s, alias)) break;
    }
    if (best) {
      status.found = *best;
      if (best->proto != kAddressProto) {
        status.state = AliasState::foreign;
      } else if (!in_place(*best, alias)) {
        status.state = AliasState::elsewhere;
        reported.push_back(best);
      } else if (best->dad_failed) {
        status.state = AliasState::dad_failed;
      } else {
        status.state = best->tentative ? AliasState::tentative : AliasState::up;
      }
    }
    out.push_back(std::move(status));
  }
  for (const SystemAddress& s : system) {
    if (s.proto != kAddressProto) continue;
    const std::string text = directory::format_ip_address(s.address);
    const bool known = std::any_of(stored.begin(), stored.end(), [&](const store::IpAlias& a) {
      return a.address == text && in_place(s, a);
    });
    // An address of the store's that sits in the wrong place is reported once, as
    // elsewhere, not also as a stray.
    const bool elsewhere = std::find(reported.begin(), reported.end(), &s) != reported.end();
    if (known || elsewhere) continue;
    store::IpAlias alias;
    alias.address = text;
    alias.prefix = s.prefix;
    alias.interface = s.interface;
    alias.label = s.label == s.interface ? "" : s.label;
    out.push_back({std::move(alias), AliasState::stray, s});
  }
  return out;
}

}  // namespace postcore::netcfg
