#include "control/directory/snapshot_codec.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/crc32c.h"

namespace postcore::directory {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the snapshot is little-endian and encoded with memcpy");

enum Section : uint8_t {
  section_domains = 1,
  section_accounts = 2,
  section_account_aliases = 3,
  section_forwarders = 4,
  section_groups = 5,
  section_relay_networks = 6,
  section_service_addresses = 7,
};

// The fewest bytes one item of each section can take, so that a count can be checked
// against what is left before anything is allocated for it.
constexpr size_t kMinDomain = 4 + 4 + 4;
constexpr size_t kMinAccount = 4 * 4 + 1 + 8;
constexpr size_t kMinAccountAlias = 3 * 4;
constexpr size_t kMinForwarder = 3 * 4;
constexpr size_t kMinGroup = 3 * 4 + 4;
constexpr size_t kMinString = 4;
constexpr size_t kMinServiceAddress = 3 * 4;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

void put_count(std::string& out, Section section, size_t count) {
  put<uint8_t>(out, section);
  put<uint32_t>(out, static_cast<uint32_t>(count));
}

template <typename T>
T load(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

Error bad(size_t offset, const std::string& what) {
  return make_error(EBADMSG, "directory snapshot: " + what + " at byte " + std::to_string(offset));
}

// Reads the body between the header and the CRC. The first failure is kept with its
// offset; later reads then fail at once, so callers check ok() once per item.
class BodyReader {
 public:
  BodyReader(std::string_view image, size_t begin, size_t end)
      : image_(image), pos_(begin), end_(end) {}

  template <typename T>
  bool get(T* out, const char* what) {
    if (!ok()) return false;
    if (end_ - pos_ < sizeof(T)) return fail(pos_, std::string(what) + " overruns the data");
    *out = load<T>(image_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }

  bool get_string(std::string* out, const char* what) {
    size_t at = pos_;
    uint32_t length = 0;
    if (!get(&length, what)) return false;
    if (end_ - pos_ < length) {
      return fail(at, std::string(what) + " length " + std::to_string(length) +
                          " overruns the data (" + std::to_string(end_ - pos_) + " bytes left)");
    }
    out->assign(image_.data() + pos_, length);
    pos_ += length;
    return true;
  }

  // Reads a section's tag and item count; the count must fit in what is left.
  bool begin_section(Section expected, size_t min_item, uint32_t* count) {
    size_t at = pos_;
    uint8_t tag = 0;
    if (!get(&tag, "section tag")) return false;
    if (tag != expected) {
      return fail(at, "section tag " + std::to_string(tag) + " where " + std::to_string(expected) +
                          " belongs");
    }
    return get_count(min_item, count, "section count");
  }

  bool get_count(size_t min_item, uint32_t* count, const char* what) {
    size_t at = pos_;
    if (!get(count, what)) return false;
    if (*count > (end_ - pos_) / min_item) {
      return fail(at, std::string(what) + " " + std::to_string(*count) + " overruns the data (" +
                          std::to_string(end_ - pos_) + " bytes left)");
    }
    return true;
  }

  bool fail(size_t offset, const std::string& what) {
    if (ok()) error_ = bad(offset, what);
    pos_ = end_;
    return false;
  }

  bool ok() const { return error_.message.empty(); }
  const Error& error() const { return error_; }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }

 private:
  std::string_view image_;
  size_t pos_;
  size_t end_;
  Error error_;
};

void read_domains(BodyReader& r, std::vector<Domain>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_domains, kMinDomain, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Domain d;
    r.get_string(&d.name, "domain name");
    uint32_t aliases = 0;
    if (r.get_count(kMinString, &aliases, "domain alias count")) {
      d.aliases.resize(aliases);
      for (std::string& alias : d.aliases) r.get_string(&alias, "domain alias");
    }
    r.get_string(&d.catch_all, "catch-all");
    out->push_back(std::move(d));
  }
}

void read_accounts(BodyReader& r, uint16_t format, std::vector<Account>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_accounts, kMinAccount, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Account a;
    r.get_string(&a.name, "account name");
    r.get_string(&a.domain, "account domain");
    r.get_string(&a.real_name, "account real name");
    r.get_string(&a.password_hash, "account password hash");
    size_t services_at = r.pos();
    if (r.get(&a.services, "account services") && (a.services & ~kAllServices) != 0) {
      r.fail(services_at, "account services " + std::to_string(a.services) + " out of range");
    }
    r.get(&a.quota_kb, "account quota");
    uint32_t copies = 0;
    if (format >= 2 && r.get_count(kMinString, &copies, "account copy count")) {
      a.copies_to.resize(copies);
      for (std::string& copy : a.copies_to) r.get_string(&copy, "account copy");
    }
    out->push_back(std::move(a));
  }
}

void read_account_aliases(BodyReader& r, std::vector<AccountAlias>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_account_aliases, kMinAccountAlias, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    AccountAlias a;
    r.get_string(&a.name, "alias name");
    r.get_string(&a.domain, "alias domain");
    r.get_string(&a.account, "alias account");
    out->push_back(std::move(a));
  }
}

void read_forwarders(BodyReader& r, std::vector<Forwarder>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_forwarders, kMinForwarder, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Forwarder f;
    r.get_string(&f.name, "forwarder name");
    r.get_string(&f.domain, "forwarder domain");
    r.get_string(&f.target, "forwarder target");
    out->push_back(std::move(f));
  }
}

void read_groups(BodyReader& r, std::vector<Group>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_groups, kMinGroup, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Group g;
    r.get_string(&g.name, "group name");
    r.get_string(&g.domain, "group domain");
    r.get_string(&g.real_name, "group real name");
    uint32_t members = 0;
    if (r.get_count(kMinString, &members, "group member count")) {
      g.members.resize(members);
      for (std::string& member : g.members) r.get_string(&member, "group member");
    }
    out->push_back(std::move(g));
  }
}

void read_relay_networks(BodyReader& r, std::vector<std::string>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_relay_networks, kMinString, &count)) return;
  out->resize(count);
  for (std::string& network : *out) r.get_string(&network, "relay network");
}

void read_service_addresses(BodyReader& r, std::vector<ServiceAddress>* out) {
  uint32_t count = 0;
  if (!r.begin_section(section_service_addresses, kMinServiceAddress, &count)) return;
  out->reserve(count);
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    ServiceAddress a;
    r.get_string(&a.address, "service address");
    r.get_string(&a.domain, "service address domain");
    uint32_t services = 0;
    if (r.get_count(kMinString, &services, "service address service count")) {
      a.services.resize(services);
      for (std::string& service : a.services) r.get_string(&service, "service address service");
    }
    out->push_back(std::move(a));
  }
}

}  // namespace

std::string encode_snapshot(const DirectoryData& data) {
  std::string out;
  out.reserve(4096);
  out.append(kSnapshotMagic);
  put<uint16_t>(out, kSnapshotFormat);
  put<uint16_t>(out, 0);
  put<uint64_t>(out, data.version);
  put<uint64_t>(out, 0);  // total length, patched below

  put_count(out, section_domains, data.domains.size());
  for (const Domain& d : data.domains) {
    put_string(out, d.name);
    put<uint32_t>(out, static_cast<uint32_t>(d.aliases.size()));
    for (const std::string& alias : d.aliases) put_string(out, alias);
    put_string(out, d.catch_all);
  }
  put_count(out, section_accounts, data.accounts.size());
  for (const Account& a : data.accounts) {
    put_string(out, a.name);
    put_string(out, a.domain);
    put_string(out, a.real_name);
    put_string(out, a.password_hash);
    put<uint8_t>(out, a.services);
    put<uint64_t>(out, a.quota_kb);
    put<uint32_t>(out, static_cast<uint32_t>(a.copies_to.size()));
    for (const std::string& copy : a.copies_to) put_string(out, copy);
  }
  put_count(out, section_account_aliases, data.account_aliases.size());
  for (const AccountAlias& a : data.account_aliases) {
    put_string(out, a.name);
    put_string(out, a.domain);
    put_string(out, a.account);
  }
  put_count(out, section_forwarders, data.forwarders.size());
  for (const Forwarder& f : data.forwarders) {
    put_string(out, f.name);
    put_string(out, f.domain);
    put_string(out, f.target);
  }
  put_count(out, section_groups, data.groups.size());
  for (const Group& g : data.groups) {
    put_string(out, g.name);
    put_string(out, g.domain);
    put_string(out, g.real_name);
    put<uint32_t>(out, static_cast<uint32_t>(g.members.size()));
    for (const std::string& member : g.members) put_string(out, member);
  }
  put_count(out, section_relay_networks, data.relay_networks.size());
  for (const std::string& network : data.relay_networks) put_string(out, network);
  put_count(out, section_service_addresses, data.service_addresses.size());
  for (const ServiceAddress& a : data.service_addresses) {
    put_string(out, a.address);
    put_string(out, a.domain);
    put<uint32_t>(out, static_cast<uint32_t>(a.services.size()));
    for (const std::string& service : a.services) put_string(out, service);
  }

  uint64_t total = out.size() + kSnapshotTrailerSize;
  std::memcpy(out.data() + kSnapshotLengthOffset, &total, sizeof(total));
  put<uint32_t>(out, crc32c(out));
  return out;
}

Result<SnapshotHeader> decode_snapshot_header(std::string_view header) {
  if (header.size() < kSnapshotHeaderSize) {
    return bad(header.size(), "truncated header (" + std::to_string(header.size()) + " of " +
                                  std::to_string(kSnapshotHeaderSize) + " bytes)");
  }
  if (header.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) return bad(0, "wrong magic");
  uint16_t format = load<uint16_t>(header.data() + 8);
  if (format < 1 || format > kSnapshotFormat) {
    return bad(8, "unknown format version " + std::to_string(format));
  }
  uint16_t flags = load<uint16_t>(header.data() + 10);
  if (flags != 0) return bad(10, "unknown flags " + std::to_string(flags));
  SnapshotHeader h;
  h.format = format;
  h.data_version = load<uint64_t>(header.data() + kSnapshotVersionOffset);
  h.total_length = load<uint64_t>(header.data() + kSnapshotLengthOffset);
  if (h.total_length < kSnapshotHeaderSize + kSnapshotTrailerSize) {
    return bad(kSnapshotLengthOffset,
               "total length " + std::to_string(h.total_length) + " shorter than the header");
  }
  return h;
}

Result<DirectoryData> decode_snapshot(std::string_view image) {
  Result<SnapshotHeader> header = decode_snapshot_header(image);
  if (!header.ok()) return header.error();
  if (header->total_length != image.size()) {
    size_t at = std::min<uint64_t>(header->total_length, image.size());
    return bad(at,
               "header says " + std::to_string(header->total_length) + " bytes, have " +
                   std::to_string(image.size()) +
                   (header->total_length > image.size() ? " (truncated)" : " (trailing bytes)"));
  }
  size_t crc_at = image.size() - kSnapshotTrailerSize;
  uint32_t stored = load<uint32_t>(image.data() + crc_at);
  if (stored != crc32c(image.substr(0, crc_at))) return bad(crc_at, "CRC mismatch");

  DirectoryData data;
  data.version = header->data_version;
  BodyReader r(image, kSnapshotHeaderSize, crc_at);
  read_domains(r, &data.domains);
  read_accounts(r, header->format, &data.accounts);
  read_account_aliases(r, &data.account_aliases);
  read_forwarders(r, &data.forwarders);
  read_groups(r, &data.groups);
  read_relay_networks(r, &data.relay_networks);
  if (header->format >= 3) read_service_addresses(r, &data.service_addresses);
  if (!r.ok()) return r.error();
  if (r.pos() != r.end()) {
    return bad(r.pos(), std::to_string(r.end() - r.pos()) + " bytes after the last section");
  }
  return data;
}

}  // namespace postcore::directory
