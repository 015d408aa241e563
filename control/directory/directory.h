// The recipient resolver: answers "may I take mail for this address, and where does it
// go?" from one directory snapshot. Built once per snapshot, immutable afterwards, and
// shared read-only by every reactor thread through std::shared_ptr<const Directory>.
//
// Rules (see README.md for the reasoning):
//  - Domains and local parts compare without ASCII case; other bytes (SMTPUTF8) as they
//    are. A quoted local part is compared as given (quotes and escapes kept), ASCII case
//    folded like any other. A domain alias means its canonical domain.
//  - "postmaster" without a domain means postmaster@ the first domain of the snapshot, and
//    postmaster@ any local domain is always accepted: if no object has that name, or it
//    delivers nowhere, the target is the domain's postmaster account, marked implicit.
//  - An unknown "user+tag" falls back to "user", then to the domain's catch-all, which is
//    resolved like any other address; with neither, unknown_user.
//  - An account without the SMTP service is `disabled` when addressed itself (directly,
//    through an alias, forwarder or catch-all). Inside a group it is skipped and the group
//    still accepts for its other members; a recipient that ends up with no target at all is
//    `disabled`.
//  - An account that sends copies (Account::copies_to) keeps its own target and expands
//    each copy address like a group member.
//  - Unknown local members of a group are skipped the same way. A forwarder or catch-all
//    that names an unknown local address gives unknown_user.
//  - Every object is expanded at most once per resolution, so cycles end; nesting deeper
//    than DirectoryLimits::max_depth or more than max_targets targets is a
//    temporary_failure (451 4.3.0): the sender keeps the message and retries, and the
//    operator sees the reason in the log, rather than mail going to only some members.
//  - A domain that is not local is accepted (as a remote target) only for a client inside
//    one of the relay networks; everyone else gets relay_denied. Forwarders and groups may
//    name outside addresses whoever the client is: that is the operator's decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "control/directory/ip_network.h"
#include "control/directory/model.h"

namespace postcore::directory {

// RCPT replies: 250 2.1.5 / 550 5.1.1 / 550 5.2.1 / 554 5.7.1 / 451 4.3.0.
enum class Verdict : uint8_t { accept, unknown_user, disabled, relay_denied, temporary_failure };
std::string_view to_string(Verdict verdict);

enum class TargetKind : uint8_t { local_account, remote };

struct Target {
  TargetKind kind = TargetKind::local_account;
  // local_account: "name@canonical-domain", lower-case. remote: the local part as given
  // (other servers may tell case apart) and the domain lower-cased.
  std::string address;
  // The postmaster of a domain that has no account of that name: delivery creates it.
  bool implicit = false;

  friend bool operator==(const Target&, const Target&) = default;
};

// One object crossed while resolving, for the log and for DSN "expanded" reports.
enum class TrailKind : uint8_t {
  account,
  account_alias,
  forwarder,
  group,
  subaddress,           // address: the "user@domain" an unknown "user+tag" fell back to
  catch_all,            // address: the unknown name the domain's catch-all took
  implicit_postmaster,  // address: the postmaster account used
  skipped_disabled,     // address: a group member that is (or leads to) a disabled account
  skipped_unknown,      // address: a group member that names nothing
};
std::string_view to_string(TrailKind kind);

struct TrailStep {
  TrailKind kind = TrailKind::account;
  std::string address;
  uint8_t depth = 0;  // 0 for the recipient itself, one more per hop

  friend bool operator==(const TrailStep&, const TrailStep&) = default;
};

struct Resolution {
  Verdict verdict = Verdict::unknown_user;
  std::vector<Target> targets;  // only for accept: no duplicates, in the order first reached
  std::vector<TrailStep> trail;
  std::string detail;  // why, for temporary_failure
};

// What a login name means: the account, what a password check needs of it, and its
// quota (delivery and RCPT look accounts up the same way).
struct LoginAccount {
  std::string address;  // "name@canonical-domain", lower-case
  std::string password_hash;
  uint8_t services = 0;   // Service bits that are enabled
  uint64_t quota_kb = 0;  // 0: no quota
};

struct DirectoryLimits {
  int max_depth = 20;
  size_t max_targets = 10'000;
};

class Directory {
 public:
  // Lower-cases names and domains, then rejects (EINVAL, one line naming the objects): an
  // empty or '@'-holding name, a domain listed twice or also another domain's alias, two
  // objects with one address, an object in a domain that is not a canonical local domain,
  // an alias naming no account of its domain, a forwarder target, group member or
  // catch-all that is not a full address, and a relay network that does not parse.
  static Result<std::shared_ptr<const Directory>> build(DirectoryData data,
                                                        DirectoryLimits limits = {});

  // `address` as in RCPT TO, without angle brackets; `client_ip` the peer's address as
  // text. An authenticated client may relay from anywhere. Never fails: every outcome is a
  // verdict. Safe to call from any thread.
  Resolution resolve(std::string_view address, std::string_view client_ip,
                     bool authenticated = false) const;

  // The account a login name means: "name@domain" in any ASCII case, the domain or one of
  // its aliases, the name the account's or one of its account aliases. Nothing for other
  // objects (a forwarder or group has no password) and for a name without a domain.
  std::optional<LoginAccount> find_login(std::string_view login) const;

  // The appliance's own addresses (IP aliases) and what listens on them.
  const std::vector<ServiceAddress>& service_addresses() const { return data_.service_addresses; }
  // The domain bound to the local address `ip` (text, as a socket reports it), or empty.
  std::string_view domain_of_local_address(std::string_view ip) const;

  uint64_t version() const { return version_; }

  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

 private:
  friend class Expansion;

  enum class ObjectKind : uint8_t { account, account_alias, forwarder, group };
  struct Object {
    ObjectKind kind;
    uint32_t index;         // into the DirectoryData vector of its kind
    std::string address;    // "name@domain", lower-case; the key objects_by_address_ views
    uint32_t alias_of = 0;  // account_alias: the object id of its account
    // account: a copy of the SMTP service bit, which saves resolve a cache miss.
    bool smtp_enabled = false;
  };

  Directory() = default;
  static const char* kind_name(ObjectKind kind);
  Result<void> index_domains();
  Result<void> index_objects();
  Result<void> link_aliases();
  Result<void> check_addresses() const;
  Result<void> parse_relay_networks();
  Result<void> check_service_addresses();

  // The index of the local domain `domain` names (either case, trailing dot ignored).
  std::optional<uint32_t> find_domain(std::string_view domain) const;
  std::optional<uint32_t> find_object(std::string_view local, uint32_t domain) const;
  bool relay_allowed(std::string_view client_ip) const;

  uint64_t version_ = 0;
  DirectoryLimits limits_;
  DirectoryData data_;
  // Lower-cased by build. The tables' keys view domain names and aliases in data_ and
  // addresses in objects_, neither of which changes after build.
  std::unordered_map<std::string_view, uint32_t> domains_by_name_;
  std::vector<Object> objects_;
  std::unordered_map<std::string_view, uint32_t> objects_by_address_;
  std::vector<IpNetwork> relay_networks_;
  std::vector<IpAddress> service_ips_;  // parallel to data_.service_addresses
};

}  // namespace postcore::directory
