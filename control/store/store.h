// The configuration store: the directory (domains, accounts, aliases, forwarders, groups,
// client networks) in SQLite, with an audit row for every change and a version counter
// that every committed change bumps. Owned by postcore-control; see README.md.
//
// Names come in as operators type them and are checked and lower-cased here. An address
// argument may use any of a domain's names ("alice@example.net" for an alias domain of
// example.com); results always use the canonical domain. Errors carry:
//   ENOENT  no such object (or it is another kind of object)
//   EEXIST  the name is taken
//   EINVAL  bad syntax or a request that makes no sense
//   ELOOP   the change conflicts with what is stored: a group cycle, a domain still in use
//   EIO     SQLite failed: busy past the timeout, disk, corruption
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "control/directory/model.h"

namespace postcore::volume {
class FileIo;
}

namespace postcore::store {

class SqliteDb;
class VolumeVfs;
struct DatabaseScrub;
struct Address;

// An IP alias: an address the control plane keeps on an interface for the appliance's
// services.
struct IpAlias {
  std::string address;  // canonical text ("192.0.2.25", "2001:db8::25")
  int prefix = 0;
  std::string interface;              // "eth0"
  std::string label;                  // IPv4 only: "eth0:web", or empty
  std::string domain;                 // canonical domain bound to the address, or empty
  std::vector<std::string> services;  // empty: every service
};

// The service names an IP alias may carry.
bool known_alias_service(std::string_view name);

// Who asks for a change: the peer's uid and where the request came from ("cli", "api",
// "import:/root/cgp.tar"). Written to the audit trail with the change.
struct Actor {
  uid_t uid = 0;
  std::string origin;
};

struct AuditEntry {
  int64_t id = 0;
  int64_t time_ms = 0;  // Unix time
  uid_t uid = 0;
  std::string origin;
  std::string action;  // "account.add"
  std::string object;  // "alice@example.com"
  std::string detail;  // what changed, for people; never a password hash
};

// Fields of an account to change; unset ones stay as they are.
struct AccountChanges {
  std::optional<std::string> real_name;
  std::optional<std::string> password_hash;
  std::optional<uint8_t> services;
  std::optional<uint64_t> quota_kb;
  std::optional<std::vector<std::string>> copies_to;  // replaces the whole list
};

// What a local name (the part before the @, unique within its domain) names.
enum class NameKind { account, alias, forwarder, group };

// What a put_* call did: imports use put_* so that running one twice changes nothing
// (no row, no audit entry, no version bump) the second time.
enum class PutOutcome { created, updated, unchanged };

struct StoreOptions {
  int busy_timeout_ms = 5000;
  // Named failure points for tests: return true to make that step fail with EIO (or, for
  // "checkpoint", be left out). Points: "commit" (just before COMMIT of an outermost
  // transaction), "checkpoint" (the log's checkpoint after a commit, with `files`).
  std::function<bool(std::string_view point)> fail_at;
  // When set, the database and its log go through these files (a mirrored volume set:
  // volume_vfs.h): pages carry checksums, the copies of the log are reconciled at open,
  // the log is checkpointed after every commit, and the store is opened in exclusive
  // locking mode (one process, one connection).
  volume::FileIo* files = nullptr;
};

class Store {
 public:
  // Opens or creates the database (WAL, synchronous=FULL, foreign keys on) and runs the
  // schema migrations it lacks. A database from a newer build is refused (EINVAL).
  static Result<std::unique_ptr<Store>> open(const std::string& path, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const { return schema_version_; }

  // Folds the write-ahead log into the database and empties it (a no-op outside a
  // mirrored store): afterwards the database file alone holds the store, for a copy.
  Result<void> checkpoint();
  // Checks every copy of every page of a mirrored store and mends the damaged ones
  // (volume_vfs.h); EINVAL for a store that is not on a volume set.
  Result<DatabaseScrub> scrub();

  // Runs `body` in one transaction (BEGIN IMMEDIATE … COMMIT): all of it or nothing. An
  // error from `body` rolls everything back. Called inside another transaction it runs in
  // that one, under a savepoint, so a failed inner part is undone and the outer body may
  // carry on. Every mutating call below is such a transaction of its own.
  Result<void> transaction(const std::function<Result<void>(Store&)>& body);

  // The directory version: bumped once by every committed transaction that changed
  // something.
  Result<uint64_t> version();
  // Everything the dataplane needs, read in one consistent transaction, sorted by domain
  // and name.
  Result<directory::DirectoryData> load_directory();
  // The last `limit` audit entries at or after `since_ms` (Unix ms), oldest first.
  Result<std::vector<AuditEntry>> audit(size_t limit, int64_t since_ms = 0);

  // Domains. A domain with accounts, aliases, forwarders or groups is removed only with
  // `cascade`, which removes them all (as remove_* would, one by one).
  Result<void> add_domain(const Actor& actor, std::string_view name,
                          const std::vector<std::string>& aliases = {});
  Result<void> remove_domain(const Actor& actor, std::string_view name, bool cascade = false);
  Result<directory::Domain> get_domain(std::string_view name);
  Result<std::vector<directory::Domain>> list_domains();
  Result<void> add_domain_alias(const Actor& actor, std::string_view domain,
                                std::string_view alias);
  Result<void> remove_domain_alias(const Actor& actor, std::string_view alias);
  // An empty address clears the catch-all.
  Result<void> set_catch_all(const Actor& actor, std::string_view domain, std::string_view address);

  // Accounts. Removing one removes its aliases, takes it and them out of every group and
  // clears a catch-all naming them. Renaming keeps its aliases and rewrites the group
  // memberships and catch-alls that name it.
  Result<void> add_account(const Actor& actor, const directory::Account& account);
  Result<void> remove_account(const Actor& actor, std::string_view address);
  Result<void> rename_account(const Actor& actor, std::string_view address,
                              std::string_view new_name);
  Result<void> update_account(const Actor& actor, std::string_view address,
                              const AccountChanges& changes);
  // A password stored again in the current scheme after a successful login: replaces
  // `old_hash` by `new_hash` only while `old_hash` is still the account's password, so a
  // password changed in the meantime is never overwritten. True when it replaced it.
  Result<bool> rehash_password(const Actor& actor, std::string_view address,
                               std::string_view old_hash, std::string_view new_hash);
  Result<directory::Account> get_account(std::string_view address);
  Result<std::vector<directory::Account>> list_accounts(std::string_view domain);

  // Account aliases: another name for an account of the same domain.
  Result<void> add_account_alias(const Actor& actor, const directory::AccountAlias& alias);
  Result<void> remove_account_alias(const Actor& actor, std::string_view address);
  Result<directory::AccountAlias> get_account_alias(std::string_view address);
  Result<std::vector<directory::AccountAlias>> list_account_aliases(std::string_view domain);

  // Forwarders: a local name whose mail goes to one address (kept as typed, case included).
  Result<void> add_forwarder(const Actor& actor, const directory::Forwarder& forwarder);
  Result<void> remove_forwarder(const Actor& actor, std::string_view address);
  Result<directory::Forwarder> get_forwarder(std::string_view address);
  Result<std::vector<directory::Forwarder>> list_forwarders(std::string_view domain);

  // Groups. Members are addresses, local or not; a change that would let a group contain
  // itself through nested groups is refused (ELOOP) with the cycle named:
  // "group cycle: a@example.com → b@example.com → a@example.com".
  Result<void> add_group(const Actor& actor, const directory::Group& group);
  Result<void> remove_group(const Actor& actor, std::string_view address);
  Result<void> set_group_real_name(const Actor& actor, std::string_view address,
                                   std::string_view real_name);
  Result<void> add_group_member(const Actor& actor, std::string_view group,
                                std::string_view member);
  Result<void> remove_group_member(const Actor& actor, std::string_view group,
                                   std::string_view member);
  Result<directory::Group> get_group(std::string_view address);
  Result<std::vector<directory::Group>> list_groups(std::string_view domain);

  // Client networks allowed to relay, in CIDR notation.
  Result<void> add_relay_network(const Actor& actor, std::string_view network);
  Result<void> remove_relay_network(const Actor& actor, std::string_view network);
  Result<std::vector<std::string>> list_relay_networks();

  // IP aliases. add_ip_alias checks and canonicalises every field (the address, a label
  // given without the interface name gets it) and stores it as given otherwise: whether
  // the interface exists is the caller's question. EEXIST when the address is stored.
  Result<IpAlias> add_ip_alias(const Actor& actor, IpAlias alias);
  // Returns what was removed. ENOENT when the address is not stored.
  Result<IpAlias> remove_ip_alias(const Actor& actor, std::string_view address);
  Result<std::vector<IpAlias>> list_ip_aliases();

  // Idempotent upserts for imports: make the stored object equal to the given one
  // (aliases of a domain and members of a group as a set), creating it if needed, and
  // audit each change made. A name taken by another kind of object is EEXIST.
  Result<PutOutcome> put_domain(const Actor& actor, const directory::Domain& domain);
  Result<PutOutcome> put_account(const Actor& actor, const directory::Account& account);
  // The addresses an existing account sends copies to, as a whole list (an aliases
  // file's "alice: \\alice, other@example.net"). ENOENT when there is no such account.
  Result<PutOutcome> put_account_copies(const Actor& actor, std::string_view address,
                                        const std::vector<std::string>& copies);
  Result<PutOutcome> put_account_alias(const Actor& actor, const directory::AccountAlias& alias);
  Result<PutOutcome> put_forwarder(const Actor& actor, const directory::Forwarder& forwarder);
  Result<PutOutcome> put_group(const Actor& actor, const directory::Group& group);
  Result<PutOutcome> put_relay_network(const Actor& actor, std::string_view network);

 private:
  struct DomainRef {
    int64_t id = 0;
    std::string name;        // canonical
    bool via_alias = false;  // it was looked up by one of its aliases
  };
  struct NameRef {
    int64_t id = 0;
    NameKind kind = NameKind::account;
    std::string name;
    DomainRef domain;
    std::string address() const { return name + "@" + domain.name; }
  };
  struct GroupEdge {
    int64_t id;
    std::string address;
  };

  Store(std::unique_ptr<VolumeVfs> vfs, std::unique_ptr<SqliteDb> db, StoreOptions options,
        int schema_version);

  Result<void> finish_outermost(Result<void> body_result);
  Result<void> record(const Actor& actor, std::string_view action, std::string_view object,
                      std::string_view detail);

  // Lookups (store_names.cc).
  // What every put_* of a local name shares: in one transaction, finds `name` in `domain`,
  // creates the object when the name is free, refuses a name another kind holds, and
  // otherwise lets `update` bring the object up to date (each change audited).
  Result<PutOutcome> put_name(
      std::string_view domain, const std::string& name, NameKind kind,
      const std::function<Result<void>()>& create,
      const std::function<Result<void>(const NameRef&, const DomainRef&)>& update);
  Result<DomainRef> find_domain(std::string_view name);
  Result<std::optional<NameRef>> find_name(const DomainRef& domain, std::string_view local);
  Result<NameRef> find_object(std::string_view address, NameKind kind);
  Result<void> refuse_taken(const DomainRef& domain, std::string_view local);
  Result<NameRef> insert_name(const DomainRef& domain, std::string_view local, NameKind kind);
  // Groups (canonical addresses) and catch-alls (domains) that named an object.
  struct References {
    std::vector<std::string> groups;
    std::vector<std::string> catch_alls;
    void merge(References&& other);
  };
  Result<References> forget_references(const NameRef& object);
  Result<void> refuse_forwarding_to_itself(const NameRef& forwarder, const Address& target);
  Result<References> rename_references(const NameRef& object, std::string_view new_name);
  // "; removed from groups a@x, b@x; catch-all of x cleared", for the audit trail.
  static std::string references_detail(const References& references, std::string_view group_verb,
                                       std::string_view catch_all_verb);

  // Which rows a read returns: all, one domain's (id of the domain) or one object's.
  struct Scope {
    enum By { all, domain, object } by = all;
    int64_t id = 0;
    // The WHERE clause for this scope, from the three variants (the last two use ?1).
    std::string_view pick(std::string_view all, std::string_view in_domain,
                          std::string_view one_object) const {
      return by == domain ? in_domain : by == object ? one_object : all;
    }
  };
  // Reads shared by get_*, list_* and load_directory (store_reads.cc).
  Result<std::vector<directory::Domain>> read_domains(Scope scope);
  Result<std::vector<directory::Account>> read_accounts(Scope scope);
  Result<std::vector<directory::AccountAlias>> read_account_aliases(Scope scope);
  Result<std::vector<directory::Forwarder>> read_forwarders(Scope scope);
  Result<std::vector<directory::Group>> read_groups(Scope scope);
  Result<std::vector<std::string>> read_relay_networks();
  Result<std::vector<IpAlias>> read_ip_aliases(std::string_view address = {});

  // Groups (store_groups.cc).
  Result<std::vector<GroupEdge>> group_edges(int64_t group_id);
  Result<void> refuse_group_cycles(const std::vector<GroupEdge>& starts);
  // Adds `member` unless the group holds it already (under any name of its domain);
  // returns it as stored.
  Result<std::string> insert_member(const NameRef& group, std::string_view member, bool* inserted);

  std::unique_ptr<VolumeVfs> vfs_;  // before db_: the connection goes first
  std::unique_ptr<SqliteDb> db_;
  StoreOptions options_;
  int schema_version_;
  int depth_ = 0;         // transactions open: 0 none, 1 the outermost, more: savepoints
  bool changed_ = false;  // the open transaction wrote an audit row, so it changes the version
  uint64_t audit_rows_written_ = 0;  // lets put_* tell whether the steps it took changed anything
};

}  // namespace postcore::store
