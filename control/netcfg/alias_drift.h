// How the system's addresses differ from the IP aliases in the configuration store, and
// what `postcorectl ip sync` does about it. Pure functions of the two lists, so every case
// is a table test; AliasSync (alias_sync.h) applies the plan through rtnetlink.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/netcfg/rtnetlink.h"
#include "control/store/store.h"

namespace postcore::netcfg {

enum class AliasState {
  up,          // on its interface with its prefix
  tentative,   // IPv6: added, duplicate address detection still running
  dad_failed,  // IPv6: the kernel found another host on the link holding it
  missing,     // not on the system: sync adds it
  elsewhere,   // postcore's, but on another interface or with another prefix: sync moves it
  foreign,     // on the system, but postcore did not add it: never touched
  stray,       // postcore added it, the store no longer has it: sync removes it
};
std::string_view to_string(AliasState state);

struct AliasStatus {
  store::IpAlias alias;  // for stray: address, prefix and interface as on the system
  AliasState state = AliasState::missing;
  // The system's address that decided the state; none when missing.
  std::optional<SystemAddress> found;
  // Where it is when elsewhere or foreign ("eth1 /24"), else empty.
  std::string actual() const;
};

// One row per stored alias (in store order), then one per stray.
std::vector<AliasStatus> compare(const std::vector<store::IpAlias>& stored,
                                 const std::vector<SystemAddress>& system);

// True when `state` is one `ip sync` changes.
bool needs_sync(AliasState state);

}  // namespace postcore::netcfg
