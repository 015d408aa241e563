// IP aliases in the store: what add_ip_alias canonicalises and refuses, the audit trail and
// directory version, how a bound domain follows the domain's fate, what load_directory()
// publishes, and the schema step that added the table.
#include <cerrno>
#include <ostream>
#include <string>
#include <vector>

#include "control/directory/directory.h"
#include "control/store/schema.h"
#include "control/store/sqlite_db.h"
#include "store_test_support.h"

namespace postcore::store::testing {
namespace {

IpAlias alias(std::string address, std::string interface = "eth0", std::string label = "",
              std::string domain = "", std::vector<std::string> services = {}) {
  IpAlias a;
  a.address = std::move(address);
  a.interface = std::move(interface);
  a.label = std::move(label);
  a.domain = std::move(domain);
  a.services = std::move(services);
  return a;
}

// Every field, so that a comparison failure shows what differs.
std::string describe(const IpAlias& a) {
  std::string services;
  for (const auto& s : a.services) services += (services.empty() ? "" : ",") + s;
  return fmt::format("{}/{} dev={} label={} domain={} services={}", a.address, a.prefix,
                     a.interface, a.label, a.domain, services);
}

std::vector<std::string> describe(const std::vector<IpAlias>& aliases) {
  std::vector<std::string> out;
  for (const auto& a : aliases) out.push_back(describe(a));
  return out;
}

class IpAliasesTest : public StoreTest {
 protected:
  std::vector<std::string> listed() {
    auto aliases = store().list_ip_aliases();
    EXPECT_TRUE(aliases.ok()) << aliases.error().message;
    return aliases.ok() ? describe(*aliases) : std::vector<std::string>{"(error)"};
  }
};

TEST_F(IpAliasesTest, AddListRemoveRoundTrip) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  EXPECT_TRUE(listed().empty());

  auto added = store().add_ip_alias(
      kAdmin, alias("192.0.2.25/24", "eth0", "mail", "example.com", {"submission", "smtp"}));
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(describe(*added),
            "192.0.2.25/24 dev=eth0 label=eth0:mail domain=example.com services=smtp,submission");
  STORE_OK(store().add_ip_alias(kAdmin, alias("2001:db8::25/64", "eth1")));
  const std::vector<std::string> both = {
      "192.0.2.25/24 dev=eth0 label=eth0:mail domain=example.com services=smtp,submission",
      "2001:db8::25/64 dev=eth1 label= domain= services=",
  };
  EXPECT_EQ(listed(), both);
  reopen();
  EXPECT_EQ(listed(), both);

  auto removed = store().remove_ip_alias(kAdmin, "192.0.2.25");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(describe(*removed), both[0]);
  EXPECT_EQ(listed(), std::vector<std::string>{both[1]});
  // Removal finds the address however it is written.
  STORE_OK(store().remove_ip_alias(kAdmin, "2001:DB8:0::25"));
  EXPECT_TRUE(listed().empty());
}

struct Canonical {
  const char* name;
  IpAlias given;
  const char* stored;  // describe() of what add_ip_alias returns and list_ip_aliases shows
};

void PrintTo(const Canonical& c, std::ostream* os) {
  *os << c.name;
}

// Like `ip address add`: an address without a prefix is a host.
TEST_F(IpAliasesTest, ABareAddressIsAHost) {
  auto v4 = store().add_ip_alias(kAdmin, alias("192.0.2.30"));
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->prefix, 32);
  IpAlias separate = alias("2001:db8::30");
  separate.prefix = 64;
  auto v6 = store().add_ip_alias(kAdmin, separate);
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->prefix, 64);
}

class IpAliasCanonical : public IpAliasesTest, public ::testing::WithParamInterface<Canonical> {};

TEST_P(IpAliasCanonical, StoresCanonicalFields) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  auto added = store().add_ip_alias(kAdmin, GetParam().given);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(describe(*added), GetParam().stored);
  EXPECT_EQ(listed(), std::vector<std::string>{GetParam().stored});
}

IpAlias with_prefix(IpAlias a, int prefix) {
  a.prefix = prefix;
  return a;
}

const Canonical kCanonical[] = {
    {"ipv6 written long", alias("2001:0DB8:0000::0010/64"),
     "2001:db8::10/64 dev=eth0 label= domain= services="},
    // Without a prefix in the text, the prefix field gives it.
    {"prefix as a field", with_prefix(alias("192.0.2.10"), 28),
     "192.0.2.10/28 dev=eth0 label= domain= services="},
    {"host prefix", alias("192.0.2.10/32"), "192.0.2.10/32 dev=eth0 label= domain= services="},
    {"label without the interface", alias("192.0.2.10/24", "eth0", "mail"),
     "192.0.2.10/24 dev=eth0 label=eth0:mail domain= services="},
    {"label with the interface", alias("192.0.2.10/24", "eth0", "eth0:web"),
     "192.0.2.10/24 dev=eth0 label=eth0:web domain= services="},
    {"label equal to the interface", alias("192.0.2.10/24", "eth0", "eth0"),
     "192.0.2.10/24 dev=eth0 label=eth0 domain= services="},
    {"longest label", alias("192.0.2.10/24", "eth0", "0123456789"),
     "192.0.2.10/24 dev=eth0 label=eth0:0123456789 domain= services="},
    {"longest interface name", alias("192.0.2.10/24", "abcdefghijklmno"),
     "192.0.2.10/24 dev=abcdefghijklmno label= domain= services="},
    {"services sorted and once each",
     alias("192.0.2.10/24", "eth0", "", "", {"submission", "smtp", "imaps", "smtp"}),
     "192.0.2.10/24 dev=eth0 label= domain= services=imaps,smtp,submission"},
    {"domain in another case", alias("192.0.2.10/24", "eth0", "", "EXAMPLE.com."),
     "192.0.2.10/24 dev=eth0 label= domain=example.com services="},
    {"domain by its alias", alias("192.0.2.10/24", "eth0", "", "example.net"),
     "192.0.2.10/24 dev=eth0 label= domain=example.com services="},
};

INSTANTIATE_TEST_SUITE_P(IpAliases, IpAliasCanonical, ::testing::ValuesIn(kCanonical),
                         [](const ::testing::TestParamInfo<Canonical>& info) {
                           return "case" + std::to_string(info.index);
                         });

struct Refusal {
  const char* name;
  IpAlias given;
  int code;
  const char* message;
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << r.name;
}

class IpAliasRefusal : public IpAliasesTest, public ::testing::WithParamInterface<Refusal> {};

// Each refusal is one line, and leaves the aliases, the audit trail and the directory
// version as they were.
TEST_P(IpAliasRefusal, ChangesNothing) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  STORE_OK(store().add_ip_alias(kAdmin, alias("2001:db8::1/64", "eth0")));
  const std::vector<std::string> before = listed();
  const uint64_t version_before = version();
  const size_t audit_before = audit_rows();
  STORE_ERROR(store().add_ip_alias(kAdmin, GetParam().given), GetParam().code, GetParam().message);
  EXPECT_EQ(listed(), before);
  EXPECT_EQ(version(), version_before);
  EXPECT_EQ(audit_rows(), audit_before);
}

const Refusal kRefusals[] = {
    {"not an address", alias("192.0.2.300/24"), EINVAL,
     "address '192.0.2.300/24': not an IPv4 or IPv6 address"},
    {"prefix too long", alias("192.0.2.10/33"), EINVAL,
     "address '192.0.2.10/33': prefix length must be 1 to 32"},
    {"prefix field too long", with_prefix(alias("2001:db8::10"), 129), EINVAL,
     "address '2001:db8::10/129': prefix length must be 1 to 128"},
    {"link-local", alias("fe80::10/64"), EINVAL,
     "address 'fe80::10/64': a link-local address cannot be an alias"},
    {"empty interface", alias("192.0.2.10/24", ""), EINVAL,
     "interface '': not an interface name (1 to 15 printable characters, no '/')"},
    {"interface of 16 characters", alias("192.0.2.10/24", "abcdefghijklmnop"), EINVAL,
     "interface 'abcdefghijklmnop': not an interface name (1 to 15 printable characters, no "
     "'/')"},
    {"interface with a slash", alias("192.0.2.10/24", "a/b"), EINVAL,
     "interface 'a/b': not an interface name (1 to 15 printable characters, no '/')"},
    {"interface with a space", alias("192.0.2.10/24", "a b"), EINVAL,
     "interface 'a b': not an interface name (1 to 15 printable characters, no '/')"},
    {"interface '..'", alias("192.0.2.10/24", ".."), EINVAL,
     "interface '..': not an interface name (1 to 15 printable characters, no '/')"},
    {"label on IPv6", alias("2001:db8::10/64", "eth0", "mail"), EINVAL,
     "labels are for IPv4 addresses only (IPv6 has none)"},
    {"label too long with the interface", alias("192.0.2.10/24", "eth0", "0123456789a"), EINVAL,
     "label 'eth0:0123456789a': not an interface name (1 to 15 printable characters, no '/')"},
    {"label with a space", alias("192.0.2.10/24", "eth0", "my web"), EINVAL,
     "label 'eth0:my web': not an interface name (1 to 15 printable characters, no '/')"},
    {"unknown service", alias("192.0.2.10/24", "eth0", "", "", {"smtp", "gopher"}), EINVAL,
     "unknown service 'gopher' (known: smtp, submission, submissions, imap, imaps, pop3, pop3s)"},
    {"unknown domain", alias("192.0.2.10/24", "eth0", "", "nowhere.example"), ENOENT,
     "no such domain: nowhere.example"},
    {"stored address written differently", alias("2001:DB8:0::1/64", "eth0"), EEXIST,
     "IP alias 2001:db8::1 already exists"},
    // One address is one alias, whatever interface or prefix the second one names.
    {"stored address on another interface", alias("2001:db8::1/128", "eth1"), EEXIST,
     "IP alias 2001:db8::1 already exists"},
};

INSTANTIATE_TEST_SUITE_P(IpAliases, IpAliasRefusal, ::testing::ValuesIn(kRefusals),
                         [](const ::testing::TestParamInfo<Refusal>& info) {
                           return "case" + std::to_string(info.index);
                         });

TEST_F(IpAliasesTest, RemovingAnUnknownAddressChangesNothing) {
  STORE_OK(store().add_ip_alias(kAdmin, alias("192.0.2.25/24")));
  const uint64_t version_before = version();
  const size_t audit_before = audit_rows();
  STORE_ERROR(store().remove_ip_alias(kAdmin, "192.0.2.26"), ENOENT,
              "no such IP alias: 192.0.2.26");
  STORE_ERROR(store().remove_ip_alias(kAdmin, "2001:DB8::25"), ENOENT,
              "no such IP alias: 2001:db8::25");
  STORE_ERROR(store().remove_ip_alias(kAdmin, "mail.example.com"), EINVAL,
              "address 'mail.example.com': not an IPv4 or IPv6 address");
  EXPECT_EQ(listed(), std::vector<std::string>{"192.0.2.25/24 dev=eth0 label= domain= services="});
  EXPECT_EQ(version(), version_before);
  EXPECT_EQ(audit_rows(), audit_before);
}

TEST_F(IpAliasesTest, AddAndRemoveAreAuditedAndBumpTheVersion) {
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  const uint64_t start = version();
  STORE_OK(store().add_ip_alias(
      kAdmin, alias("192.0.2.25/24", "eth0", "mail", "example.com", {"smtp", "submission"})));
  EXPECT_EQ(version(), start + 1);
  AuditEntry entry = last_audit();
  EXPECT_EQ(entry.action, "ip.add");
  EXPECT_EQ(entry.object, "192.0.2.25");
  EXPECT_EQ(entry.detail,
            "192.0.2.25/24 dev eth0 label eth0:mail domain example.com services smtp,submission");
  EXPECT_EQ(entry.uid, kAdmin.uid);
  EXPECT_EQ(entry.origin, kAdmin.origin);

  STORE_OK(store().add_ip_alias(kAdmin, alias("2001:db8::25/64")));
  EXPECT_EQ(version(), start + 2);
  EXPECT_EQ(last_audit().detail, "2001:db8::25/64 dev eth0");

  STORE_OK(store().remove_ip_alias(kAdmin, "192.0.2.25"));
  EXPECT_EQ(version(), start + 3);
  entry = last_audit();
  EXPECT_EQ(entry.action, "ip.remove");
  EXPECT_EQ(entry.object, "192.0.2.25");
  EXPECT_EQ(entry.detail,
            "192.0.2.25/24 dev eth0 label eth0:mail domain example.com services smtp,submission");
}

// The store has no domain rename; what it has is domain aliases (a binding by alias is to
// the domain) and removal, which unbinds.
TEST_F(IpAliasesTest, TheBoundDomainGoesWithTheDomain) {
  STORE_OK(store().add_domain(kAdmin, "other.test"));
  // Added last, so that its row id is the highest and a new domain gets it again.
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().add_ip_alias(kAdmin, alias("192.0.2.25/24", "eth0", "", "example.net")));
  STORE_OK(store().add_ip_alias(kAdmin, alias("192.0.2.26/24", "eth0", "", "other.test")));
  STORE_OK(store().remove_domain_alias(kAdmin, "example.net"));
  EXPECT_EQ(listed(), (std::vector<std::string>{
                          "192.0.2.25/24 dev=eth0 label= domain=example.com services=",
                          "192.0.2.26/24 dev=eth0 label= domain=other.test services=",
                      }));

  const uint64_t before = version();
  STORE_OK(store().remove_domain(kAdmin, "example.com"));
  EXPECT_EQ(version(), before + 1);
  const std::vector<std::string> unbound = {
      "192.0.2.25/24 dev=eth0 label= domain= services=",
      "192.0.2.26/24 dev=eth0 label= domain=other.test services=",
  };
  EXPECT_EQ(listed(), unbound);
  // A new domain of the same name, which gets the old row id, is not bound by accident.
  STORE_OK(store().add_domain(kAdmin, "example.com"));
  EXPECT_EQ(listed(), unbound);
  // Nor does a cascading removal take the alias with it.
  STORE_OK(store().remove_domain(kAdmin, "other.test", /*cascade=*/true));
  EXPECT_EQ(listed(), (std::vector<std::string>{
                          "192.0.2.25/24 dev=eth0 label= domain= services=",
                          "192.0.2.26/24 dev=eth0 label= domain= services=",
                      }));
}

TEST_F(IpAliasesTest, LoadDirectoryPublishesServiceAddresses) {
  STORE_OK(store().add_domain(kAdmin, "example.com", {"example.net"}));
  STORE_OK(store().add_ip_alias(
      kAdmin, alias("192.0.2.25/24", "eth0", "mail", "Example.NET", {"submission", "smtp"})));
  STORE_OK(store().add_ip_alias(kAdmin, alias("2001:0db8::25/64", "eth1")));
  auto data = store().load_directory();
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_EQ(data->service_addresses.size(), 2u);
  const directory::ServiceAddress& v4 = data->service_addresses[0];
  EXPECT_EQ(v4.address, "192.0.2.25");
  EXPECT_EQ(v4.domain, "example.com");
  EXPECT_EQ(v4.services, (std::vector<std::string>{"smtp", "submission"}));
  const directory::ServiceAddress& v6 = data->service_addresses[1];
  EXPECT_EQ(v6.address, "2001:db8::25");
  EXPECT_EQ(v6.domain, "");
  EXPECT_TRUE(v6.services.empty());

  // What the store publishes builds, and the dataplane's question finds the domain.
  auto built = directory::Directory::build(std::move(*data));
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ((*built)->domain_of_local_address("::ffff:192.0.2.25"), "example.com");
}

TEST(IpAliasesMigrationTest, ASchemaTwoStoreGainsTheTable) {
  TempDir dir;
  const std::string path = dir.file("config.db");
  {
    auto db = SqliteDb::open(path, 1000);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_EQ(schema_migrations()[1].version, 2);
    auto migrated = migrate(**db, schema_migrations().first(2));
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    ASSERT_EQ(*migrated, 2);
    STORE_OK((*db)->exec(
        "INSERT INTO domains (id) VALUES (1);"
        "INSERT INTO domain_names (name, domain_id, is_alias) VALUES ('example.com', 1, 0);"));
    auto tables =
        (*db)->query_integer("SELECT count(*) FROM sqlite_schema WHERE name = 'ip_aliases'");
    ASSERT_TRUE(tables.ok());
    EXPECT_EQ(tables->value_or(-1), 0);
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), 3);
  STORE_OK((*store)->get_domain("example.com"));
  STORE_OK((*store)->add_ip_alias(kAdmin, alias("192.0.2.25/24", "eth0", "", "example.com")));
  // The migrated table has the domain reference with its ON DELETE rule: the binding is
  // gone, and does not come back with a new domain that gets the old row id.
  STORE_OK((*store)->remove_domain(kAdmin, "example.com"));
  STORE_OK((*store)->add_domain(kAdmin, "example.com"));
  auto aliases = (*store)->list_ip_aliases();
  ASSERT_TRUE(aliases.ok()) << aliases.error().message;
  EXPECT_EQ(describe(*aliases),
            std::vector<std::string>{"192.0.2.25/24 dev=eth0 label= domain= services="});
}

}  // namespace
}  // namespace postcore::store::testing
