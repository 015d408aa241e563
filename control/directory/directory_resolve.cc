// Directory::resolve: one recipient address to a verdict and, when accepted, its targets.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "control/directory/address_text.h"
#include "control/directory/directory.h"

namespace postcore::directory {
namespace {

namespace text = address_text;

constexpr std::string_view kPostmaster = "postmaster";

// "local@domain" with the local part lower-cased, built on the stack for lookups: RCPT
// resolution is the dataplane's hot path and most addresses fit in a few hundred bytes.
class LookupKey {
 public:
  LookupKey(std::string_view local, std::string_view lower_domain) {
    size_t size = local.size() + 1 + lower_domain.size();
    char* out = inline_;
    if (size > sizeof(inline_)) {
      spill_.resize(size);
      out = spill_.data();
    }
    std::transform(local.begin(), local.end(), out, text::lower);
    out[local.size()] = '@';
    std::memcpy(out + local.size() + 1, lower_domain.data(), lower_domain.size());
    view_ = std::string_view(out, size);
  }
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;

  std::string_view view() const { return view_; }

 private:
  char inline_[320];  // RFC 5321: local part 64 + '@' + domain 255
  std::string spill_;
  std::string_view view_;
};

// A set of object ids that stays on the stack while small, as it nearly always is.
class SeenObjects {
 public:
  // True if `id` was not in the set.
  bool insert(uint32_t id) {
    if (spilled_.empty()) {
      if (std::find(small_, small_ + small_size_, id) != small_ + small_size_) return false;
      if (small_size_ < kSmall) {
        small_[small_size_++] = id;
        return true;
      }
      spilled_.insert(small_, small_ + small_size_);
    }
    return spilled_.insert(id).second;
  }

 private:
  static constexpr size_t kSmall = 16;
  uint32_t small_[kSmall];
  size_t small_size_ = 0;
  std::unordered_set<uint32_t> spilled_;
};

bool is_quoted(std::string_view local) {
  return !local.empty() && local.front() == '"';
}

}  // namespace

// The state of one resolution: what has been visited and reached so far.
class Expansion {
 public:
  Expansion(const Directory& directory, Resolution* out) : dir_(directory), out_(out) {}

  Verdict address(std::string_view address, int depth);
  Verdict local_name(std::string_view local, uint32_t domain, int depth);
  Verdict implicit_postmaster(uint32_t domain, int depth);
  Verdict add_target(TargetKind kind, std::string address, bool implicit = false);

 private:
  using ObjectKind = Directory::ObjectKind;

  Verdict object(uint32_t id, int depth);
  Verdict group(const Directory::Object& object, int depth);
  Verdict members(const std::vector<std::string>& addresses, int depth);
  Verdict fail(std::string detail);
  void note(TrailKind kind, std::string_view address, int depth) {
    out_->trail.push_back(
        TrailStep{kind, std::string(address), static_cast<uint8_t>(std::min(depth, 255))});
  }

  const Directory& dir_;
  Resolution* out_;
  SeenObjects seen_;
  // Built only once the targets outgrow a linear search.
  std::unordered_set<std::string> target_set_;
  bool failed_ = false;
};

Verdict Expansion::fail(std::string detail) {
  if (!failed_) out_->detail = std::move(detail);
  failed_ = true;
  return Verdict::temporary_failure;
}

Verdict Expansion::add_target(TargetKind kind, std::string address, bool implicit) {
  std::vector<Target>& targets = out_->targets;
  constexpr size_t kLinear = 16;
  if (targets.size() < kLinear) {
    for (const Target& t : targets) {
      if (t.address == address) return Verdict::accept;
    }
  } else {
    if (target_set_.empty()) {
      for (const Target& t : targets) target_set_.insert(t.address);
    }
    if (!target_set_.insert(address).second) return Verdict::accept;
  }
  if (targets.size() >= dir_.limits_.max_targets) {
    return fail("more than " + std::to_string(dir_.limits_.max_targets) + " targets");
  }
  targets.push_back(Target{kind, std::move(address), implicit});
  return Verdict::accept;
}

Verdict Expansion::address(std::string_view address, int depth) {
  std::optional<text::AddressParts> parts = text::split(address);
  if (!parts) return Verdict::unknown_user;
  if (std::optional<uint32_t> domain = dir_.find_domain(parts->domain)) {
    return local_name(parts->local, *domain, depth);
  }
  std::string remote(parts->local);
  remote.push_back('@');
  text::append_lower(remote, text::without_trailing_dot(parts->domain));
  return add_target(TargetKind::remote, std::move(remote));
}

Verdict Expansion::local_name(std::string_view local, uint32_t domain, int depth) {
  if (std::optional<uint32_t> id = dir_.find_object(local, domain)) return object(*id, depth);
  std::string_view name = local;
  size_t plus = local.find('+');
  if (!is_quoted(local) && plus != std::string_view::npos && plus > 0) {
    name = local.substr(0, plus);
    if (std::optional<uint32_t> id = dir_.find_object(name, domain)) {
      note(TrailKind::subaddress, dir_.objects_[*id].address, depth);
      return object(*id, depth);
    }
  }
  if (text::iequals(name, kPostmaster)) return implicit_postmaster(domain, depth);
  const Domain& d = dir_.data_.domains[domain];
  if (d.catch_all.empty()) return Verdict::unknown_user;
  // Catch-alls share the id space after the objects, so that a catch-all which names
  // an unknown address of its own domain ends instead of looping.
  if (!seen_.insert(static_cast<uint32_t>(dir_.objects_.size()) + domain)) {
    return Verdict::unknown_user;
  }
  if (depth + 1 > dir_.limits_.max_depth) {
    return fail("nested deeper than " + std::to_string(dir_.limits_.max_depth) + " levels");
  }
  note(TrailKind::catch_all, LookupKey(local, d.name).view(), depth);
  return address(d.catch_all, depth + 1);
}

Verdict Expansion::implicit_postmaster(uint32_t domain, int depth) {
  std::string account = std::string(kPostmaster) + "@" + dir_.data_.domains[domain].name;
  note(TrailKind::implicit_postmaster, account, depth);
  return add_target(TargetKind::local_account, std::move(account), true);
}

Verdict Expansion::object(uint32_t id, int depth) {
  if (depth > dir_.limits_.max_depth) {
    return fail("nested deeper than " + std::to_string(dir_.limits_.max_depth) + " levels");
  }
  // Reached before along another path (or this is a cycle): its targets are already in.
  if (!seen_.insert(id)) return Verdict::accept;
  const Directory::Object& o = dir_.objects_[id];
  switch (o.kind) {
    case ObjectKind::account: {
      note(TrailKind::account, o.address, depth);
      if (!o.smtp_enabled) return Verdict::disabled;
      Verdict v = add_target(TargetKind::local_account, o.address);
      const std::vector<std::string>& copies = dir_.data_.accounts[o.index].copies_to;
      if (v != Verdict::accept || copies.empty()) return v;
      return members(copies, depth);
    }
    case ObjectKind::account_alias:
      note(TrailKind::account_alias, o.address, depth);
      return object(o.alias_of, depth + 1);
    case ObjectKind::forwarder:
      note(TrailKind::forwarder, o.address, depth);
      return address(dir_.data_.forwarders[o.index].target, depth + 1);
    case ObjectKind::group:
      return group(o, depth);
  }
  return Verdict::unknown_user;
}

Verdict Expansion::group(const Directory::Object& o, int depth) {
  note(TrailKind::group, o.address, depth);
  return members(dir_.data_.groups[o.index].members, depth);
}

// A group's members, or the addresses an account sends copies to: each is expanded, and
// one that is disabled or names nothing is skipped (and noted) while the others go on.
Verdict Expansion::members(const std::vector<std::string>& addresses, int depth) {
  for (const std::string& member : addresses) {
    Verdict v = address(member, depth + 1);
    if (failed_) return Verdict::temporary_failure;
    if (v == Verdict::disabled) note(TrailKind::skipped_disabled, member, depth + 1);
    if (v == Verdict::unknown_user) note(TrailKind::skipped_unknown, member, depth + 1);
  }
  return Verdict::accept;
}

std::optional<uint32_t> Directory::find_domain(std::string_view domain) const {
  domain = text::without_trailing_dot(domain);
  char lower[256];
  if (domain.size() > sizeof(lower)) return std::nullopt;  // longer than any domain name
  std::transform(domain.begin(), domain.end(), lower, text::lower);
  auto it = domains_by_name_.find(std::string_view(lower, domain.size()));
  if (it == domains_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> Directory::find_object(std::string_view local, uint32_t domain) const {
  LookupKey key(local, data_.domains[domain].name);
  auto it = objects_by_address_.find(key.view());
  if (it == objects_by_address_.end()) return std::nullopt;
  return it->second;
}

bool Directory::relay_allowed(std::string_view client_ip) const {
  if (relay_networks_.empty()) return false;
  std::optional<IpAddress> client = parse_ip_address(client_ip);
  if (!client) return false;
  return std::any_of(relay_networks_.begin(), relay_networks_.end(),
                     [&](const IpNetwork& n) { return n.contains(*client); });
}

std::optional<LoginAccount> Directory::find_login(std::string_view login) const {
  std::optional<text::AddressParts> parts = text::split(login);
  if (!parts) return std::nullopt;
  std::optional<uint32_t> domain = find_domain(parts->domain);
  if (!domain) return std::nullopt;
  std::optional<uint32_t> id = find_object(parts->local, *domain);
  if (!id) return std::nullopt;
  const Object* o = &objects_[*id];
  if (o->kind == ObjectKind::account_alias) o = &objects_[o->alias_of];
  if (o->kind != ObjectKind::account) return std::nullopt;
  const Account& account = data_.accounts[o->index];
  return LoginAccount{o->address, account.password_hash, account.services, account.quota_kb};
}

Resolution Directory::resolve(std::string_view address, std::string_view client_ip,
                              bool authenticated) const {
  Resolution r;
  Expansion expansion(*this, &r);
  std::string_view local;
  std::optional<uint32_t> domain;
  if (text::iequals(address, kPostmaster)) {
    if (data_.domains.empty()) return r;  // nothing is local: no postmaster to take it
    local = kPostmaster;
    domain = 0;
  } else {
    std::optional<text::AddressParts> parts = text::split(address);
    if (!parts) return r;
    local = parts->local;
    domain = find_domain(parts->domain);
    if (!domain) {
      if (!authenticated && !relay_allowed(client_ip)) {
        r.verdict = Verdict::relay_denied;
        return r;
      }
      r.verdict = expansion.address(address, 0);
      return r;
    }
  }
  r.verdict = expansion.local_name(local, *domain, 0);
  if (r.verdict == Verdict::accept && r.targets.empty()) r.verdict = Verdict::disabled;
  if (r.verdict == Verdict::accept) return r;
  r.targets.clear();
  if (text::iequals(local, kPostmaster)) {
    // RFC 5321 4.5.1: postmaster is always accepted, whatever the operator made of it.
    Resolution fallback;
    fallback.trail = std::move(r.trail);
    fallback.verdict = Expansion(*this, &fallback).implicit_postmaster(*domain, 0);
    return fallback;
  }
  return r;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::accept:
      return "accept";
    case Verdict::unknown_user:
      return "unknown_user";
    case Verdict::disabled:
      return "disabled";
    case Verdict::relay_denied:
      return "relay_denied";
    case Verdict::temporary_failure:
      return "temporary_failure";
  }
  return "?";
}

std::string_view to_string(TrailKind kind) {
  switch (kind) {
    case TrailKind::account:
      return "account";
    case TrailKind::account_alias:
      return "account_alias";
    case TrailKind::forwarder:
      return "forwarder";
    case TrailKind::group:
      return "group";
    case TrailKind::subaddress:
      return "subaddress";
    case TrailKind::catch_all:
      return "catch_all";
    case TrailKind::implicit_postmaster:
      return "implicit_postmaster";
    case TrailKind::skipped_disabled:
      return "skipped_disabled";
    case TrailKind::skipped_unknown:
      return "skipped_unknown";
  }
  return "?";
}

}  // namespace postcore::directory
