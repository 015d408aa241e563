// Commands about the control plane itself: status, the audit trail, relay networks.
#include <unistd.h>

#include <cerrno>

#include "control/server/control_commands.h"

namespace postcore::control {

using nlohmann::json;

void ControlCommands::add_misc_commands() {
  add("status", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto version = store_.version();
    if (!version) return version.error();
    auto domains = store_.list_domains();
    if (!domains) return domains.error();
    return json{{"directory_version", *version},
                {"published_version", published_ ? published_version_ : 0},
                {"schema_version", store_.schema_version()},
                {"domains", domains->size()},
                {"pid", getpid()}};
  });
  add("audit", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    auto limit = a.optional_number("limit");
    auto since = a.optional_number("since_ms");
    if (!limit) return limit.error();
    if (!since) return since.error();
    if (auto f = a.finish(); !f) return f.error();
    auto entries = store_.audit(limit->value_or(100), static_cast<int64_t>(since->value_or(0)));
    if (!entries) return entries.error();
    json out = json::array();
    for (const auto& e : *entries)
      out.push_back({{"id", e.id},
                     {"time_ms", e.time_ms},
                     {"uid", e.uid},
                     {"origin", e.origin},
                     {"action", e.action},
                     {"object", e.object},
                     {"detail", e.detail}});
    return out;
  });
  add("relay.add", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto network = a.string("network");
    if (!network) return network.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.add_relay_network(actor, *network); !r) return r.error();
    return json::object();
  });
  add("relay.remove", true, [this](const store::Actor& actor, RequestArgs& a) -> Result<json> {
    auto network = a.string("network");
    if (!network) return network.error();
    if (auto f = a.finish(); !f) return f.error();
    if (auto r = store_.remove_relay_network(actor, *network); !r) return r.error();
    return json::object();
  });
  add("relay.list", false, [this](const store::Actor&, RequestArgs& a) -> Result<json> {
    if (auto f = a.finish(); !f) return f.error();
    auto networks = store_.list_relay_networks();
    if (!networks) return networks.error();
    return json(*networks);
  });
}

}  // namespace postcore::control
