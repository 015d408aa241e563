#include "tests/unit/directory/sample_directory.h"

#include <tuple>

namespace postcore::directory::testing {

DirectoryData sample_directory() {
  DirectoryData d;
  d.version = 42;
  d.domains = {
      {"example.com", {"example.net", "Example.ORG."}, ""},
      {"catchall.test", {}, "bucket@catchall.test"},
      {"loop.test", {}, "nobody@loop.test"},
      {"fwd.test", {}, "someone@remote.example"},
      {"pm.test", {}, ""},
      {"pmgroup.test", {}, ""},
  };
  d.accounts = {
      {"alice", "example.com", "Alice Liddell", "$6$salt$hash", kAllServices, 1024},
      {"bob", "example.com", "Bob", "{SSHA}xyz", kAllServices, 0},
      {"carol", "example.com", "Carol (mail off)", "", service_pop | service_imap, 0},
      {"dave", "example.com", "Dave", "", service_smtp, 0},
      {"bob+special", "example.com", "", "", kAllServices, 0},
      {"\"john doe\"", "example.com", "John Doe", "", kAllServices, 0},
      {"m\xc3\xbcller", "example.com", "M\xc3\xbcller", "", kAllServices, 0},
      {"bucket", "catchall.test", "", "", kAllServices, 0},
      {"postmaster", "pm.test", "", "", service_imap, 0},
      {"keeper",
       "example.com",
       "Keeps a copy",
       "",
       kAllServices,
       0,
       {"Keeper@Remote.Example", "carol@example.com", "ghost@example.com", "al@example.com"}},
  };
  d.account_aliases = {
      {"al", "example.com", "alice"},
      {"carlos", "example.com", "carol"},
  };
  d.forwarders = {
      {"ext", "example.com", "Someone@Remote.Example"},
      {"inner", "example.com", "bob@example.net"},
      {"tocarol", "example.com", "carol@example.com"},
      {"toghost", "example.com", "ghost@example.com"},
  };
  d.groups = {
      {"team",
       "example.com",
       "The team",
       {"alice@example.com", "al@example.com", "carol@example.com", "ghost@example.com",
        "partner@remote.example", "sub@example.com"}},
      {"sub", "example.com", "", {"dave@example.com", "team@example.com"}},
      {"cycle-a", "example.com", "", {"cycle-b@example.com"}},
      {"cycle-b", "example.com", "", {"cycle-a@example.com"}},
      {"disabledonly", "example.com", "", {"carol@example.com"}},
      {"postmaster", "pmgroup.test", "", {"alice@example.com"}},
  };
  d.relay_networks = {"192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32", "::1"};
  d.service_addresses = {{"192.0.2.25", "example.com", {"smtp", "submission"}},
                         {"2001:db8::25", "", {"smtp"}}};
  return d;
}

bool same_data(const DirectoryData& a, const DirectoryData& b) {
  auto domain = [](const Domain& x) { return std::tie(x.name, x.aliases, x.catch_all); };
  auto account = [](const Account& x) {
    return std::tie(x.name, x.domain, x.real_name, x.password_hash, x.services, x.quota_kb,
                    x.copies_to);
  };
  auto alias = [](const AccountAlias& x) { return std::tie(x.name, x.domain, x.account); };
  auto forwarder = [](const Forwarder& x) { return std::tie(x.name, x.domain, x.target); };
  auto group = [](const Group& x) { return std::tie(x.name, x.domain, x.real_name, x.members); };
  auto service_address = [](const ServiceAddress& x) {
    return std::tie(x.address, x.domain, x.services);
  };
  auto same_list = [](const auto& xs, const auto& ys, auto key) {
    if (xs.size() != ys.size()) return false;
    for (size_t i = 0; i < xs.size(); i++) {
      if (key(xs[i]) != key(ys[i])) return false;
    }
    return true;
  };
  return a.version == b.version && same_list(a.domains, b.domains, domain) &&
         same_list(a.accounts, b.accounts, account) &&
         same_list(a.account_aliases, b.account_aliases, alias) &&
         same_list(a.forwarders, b.forwarders, forwarder) && same_list(a.groups, b.groups, group) &&
         a.relay_networks == b.relay_networks &&
         same_list(a.service_addresses, b.service_addresses, service_address);
}

}  // namespace postcore::directory::testing
