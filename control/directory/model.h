// The directory's object model, as CommuniGate Pro has it: domains (with domain
// aliases), accounts, account aliases, forwarders and groups. Plain values: the store
// persists them, the snapshot publishes them to the dataplane, and the resolver answers
// RCPT from them. Names are stored lower-case; domains without a trailing dot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace postcore::directory {

struct Domain {
  std::string name;                  // "example.com"
  std::vector<std::string> aliases;  // other names of the same domain: "example.net"
  // Where mail for an unknown name of this domain goes; empty: unknown names get 550 5.1.1.
  // An address (account, forwarder or group, local or remote) as given by the operator.
  std::string catch_all;
};

enum Service : uint8_t { service_smtp = 1, service_pop = 2, service_imap = 4 };
constexpr uint8_t kAllServices = service_smtp | service_pop | service_imap;

struct Account {
  std::string name;    // local part: "alice"
  std::string domain;  // "example.com"
  std::string real_name;
  std::string password_hash;        // crypt(3)-style or {SCHEME} string; never clear text
  uint8_t services = kAllServices;  // Service bits that are enabled
  uint64_t quota_kb = 0;            // 0: no quota
  // Full addresses that also get a copy of the account's mail, which the account keeps
  // (sendmail's "alice: \\alice, alice@elsewhere.example"). Resolved like group members.
  std::vector<std::string> copies_to;
};

// Another name for an account in the same domain: "al@example.com" → alice.
struct AccountAlias {
  std::string name;
  std::string domain;
  std::string account;  // local part of the account it names, same domain
};

// A local name whose mail goes to one outside address.
struct Forwarder {
  std::string name;
  std::string domain;
  std::string target;  // full address, any domain
};

// A local name whose mail goes to every member. A member is an address: an account,
// an account alias, a forwarder or another group (local), or any outside address.
struct Group {
  std::string name;
  std::string domain;
  std::string real_name;
  std::vector<std::string> members;  // full addresses
};

// An address the appliance answers on: an IP alias the control plane keeps on an
// interface. Listeners configured for "aliases" listen on it for its services, and a
// domain bound to it is the name the SMTP greeting on it gives.
struct ServiceAddress {
  std::string address;                // numeric IP as inet_ntop writes it
  std::string domain;                 // canonical local domain, or empty
  std::vector<std::string> services;  // "smtp", "submission", …
};

// Everything the dataplane needs to answer RCPT: what the control plane publishes as
// one immutable, versioned snapshot.
struct DirectoryData {
  uint64_t version = 0;  // increases with every published change
  std::vector<Domain> domains;
  std::vector<Account> accounts;
  std::vector<AccountAlias> account_aliases;
  std::vector<Forwarder> forwarders;
  std::vector<Group> groups;
  // Client networks allowed to relay to outside domains, as CIDR text ("127.0.0.0/8",
  // "2001:db8::/32"). Everyone else gets 554 5.7.1 for a non-local recipient.
  std::vector<std::string> relay_networks;
  std::vector<ServiceAddress> service_addresses;  // sorted by address
};

}  // namespace postcore::directory
