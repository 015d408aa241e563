#include "common/profile.h"

#include <arpa/inet.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace postcore {
namespace {

constexpr ServiceInfo kServices[] = {
    {Service::smtp, "smtp", 25},
    {Service::submission, "submission", 587},
    {Service::pop3, "pop3", 110},
};

// Raised inside the decoder only; parse_profile turns it into a Result.
struct ProfileError {
  toml::source_position where;
  std::string message;
};

[[noreturn]] void fail(const toml::node& n, std::string message) {
  throw ProfileError{n.source().begin, std::move(message)};
}

void reject_unknown_keys(const toml::table& t, std::initializer_list<std::string_view> known,
                         std::string_view section) {
  for (auto&& [key, value] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      throw ProfileError{key.source().begin,
                         "unknown key '" + std::string(key.str()) + "' in " + std::string(section)};
    }
  }
}

std::string get_string(const toml::node& n, std::string_view what) {
  if (auto s = n.value<std::string>()) return *s;
  fail(n, std::string(what) + " must be a string");
}

int64_t get_int(const toml::node& n, std::string_view what, int64_t lo, int64_t hi) {
  auto v = n.value_exact<int64_t>();
  if (!v) fail(n, std::string(what) + " must be an integer");
  if (*v < lo || *v > hi)
    fail(n, std::string(what) + " must be between " + std::to_string(lo) + " and " +
                std::to_string(hi));
  return *v;
}

// A size is an integer of bytes or a string with a K/M/G suffix ("50M").
uint64_t get_size(const toml::node& n, std::string_view what, uint64_t lo, uint64_t hi) {
  uint64_t value = 0;
  if (auto i = n.value_exact<int64_t>()) {
    if (*i < 0) fail(n, std::string(what) + " must not be negative");
    value = static_cast<uint64_t>(*i);
  } else if (auto s = n.value_exact<std::string>()) {
    size_t pos = 0;
    while (pos < s->size() && std::isdigit(static_cast<unsigned char>((*s)[pos]))) ++pos;
    if (pos == 0 || pos > 15) fail(n, std::string(what) + ": expected a size such as 512K or 50M");
    value = std::stoull(s->substr(0, pos));
    std::string unit = s->substr(pos);
    if (unit == "K" || unit == "k")
      value <<= 10;
    else if (unit == "M" || unit == "m")
      value <<= 20;
    else if (unit == "G" || unit == "g")
      value <<= 30;
    else if (!unit.empty())
      fail(n, std::string(what) + ": unknown size unit '" + unit + "'");
  } else {
    fail(n, std::string(what) + " must be a size (bytes, or a string like \"50M\")");
  }
  if (value < lo || value > hi)
    fail(n, std::string(what) + " must be between " + std::to_string(lo) + " and " +
                std::to_string(hi) + " bytes");
  return value;
}

std::chrono::seconds get_seconds(const toml::node& n, std::string_view what) {
  return std::chrono::seconds(get_int(n, what, 1, 86400));
}

const toml::table& as_table(const toml::node& n, std::string_view what) {
  if (auto t = n.as_table()) return *t;
  fail(n, std::string(what) + " must be a table");
}

void decode_appliance(const toml::table& t, Profile& p) {
  reject_unknown_keys(
      t, {"hostname", "data_dir", "port_base", "cores", "log_level", "shutdown_grace_seconds"},
      "[appliance]");
  if (auto n = t.get("hostname")) p.hostname = get_string(*n, "hostname");
  if (auto n = t.get("data_dir")) p.data_dir = get_string(*n, "data_dir");
  if (auto n = t.get("port_base"))
    p.port_base = static_cast<int32_t>(get_int(*n, "port_base", 0, 64000));
  if (auto n = t.get("cores")) p.cores = static_cast<uint32_t>(get_int(*n, "cores", 0, 1024));
  if (auto n = t.get("shutdown_grace_seconds"))
    p.shutdown_grace = get_seconds(*n, "shutdown_grace_seconds");
  if (auto n = t.get("log_level")) {
    p.log_level = get_string(*n, "log_level");
    if (p.log_level != "error" && p.log_level != "warning" && p.log_level != "info" &&
        p.log_level != "debug")
      fail(*n, "log_level must be one of error, warning, info, debug");
  }
}

void decode_listener(const toml::node& node, Profile& p) {
  const toml::table& t = as_table(node, "[[listener]]");
  reject_unknown_keys(t, {"service", "address", "port"}, "[[listener]]");
  ListenerConfig l;
  auto svc = t.get("service");
  if (!svc) fail(node, "[[listener]] needs a service");
  std::string name = get_string(*svc, "service");
  const ServiceInfo* info = find_service(name);
  if (!info) fail(*svc, "unknown service '" + name + "' (this version serves smtp, submission)");
  l.service = info->service;
  l.port = info->standard_port;
  auto addr = t.get("address");
  if (!addr) fail(node, "[[listener]] needs an address");
  l.address = get_string(*addr, "address");
  unsigned char buf[16];
  if (l.address == "aliases") {
    l.on_aliases = true;
    l.address.clear();
  } else if (inet_pton(AF_INET, l.address.c_str(), buf) != 1 &&
             inet_pton(AF_INET6, l.address.c_str(), buf) != 1) {
    fail(*addr, "address must be a numeric IPv4 or IPv6 address, or \"aliases\"");
  }
  if (auto n = t.get("port")) l.port = static_cast<uint16_t>(get_int(*n, "port", 1, 65535));
  p.listeners.push_back(l);
}

void decode_smtp(const toml::table& t, SmtpSettings& s) {
  reject_unknown_keys(t,
                      {"local_domains", "max_message_size", "max_recipients",
                       "max_expanded_recipients", "max_command_line", "max_text_line", "max_errors",
                       "command_timeout_seconds", "data_timeout_seconds", "bare_line_endings",
                       "max_connections", "max_connections_per_client"},
                      "[smtp]");
  if (auto n = t.get("local_domains")) {
    auto* arr = n->as_array();
    if (!arr) fail(*n, "local_domains must be an array of strings");
    s.local_domains.clear();
    for (auto&& d : *arr) {
      std::string name = get_string(d, "a local domain");
      if (name.empty() || name.size() > 253) fail(d, "a local domain must be 1 to 253 characters");
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      s.local_domains.push_back(name);
    }
  }
  if (auto n = t.get("max_message_size"))
    s.max_message_size = get_size(*n, "max_message_size", 1024, 4ull << 30);
  if (auto n = t.get("max_recipients"))
    s.max_recipients = static_cast<uint32_t>(get_int(*n, "max_recipients", 1, 100000));
  if (auto n = t.get("max_expanded_recipients")) {
    s.max_expanded_recipients =
        static_cast<uint32_t>(get_int(*n, "max_expanded_recipients", 1, 1000000));
  }
  if (auto n = t.get("max_command_line"))
    s.max_command_line = static_cast<uint32_t>(get_int(*n, "max_command_line", 512, 65536));
  if (auto n = t.get("max_text_line"))
    s.max_text_line = static_cast<uint32_t>(get_int(*n, "max_text_line", 1000, 1 << 20));
  if (auto n = t.get("max_errors"))
    s.max_errors = static_cast<uint32_t>(get_int(*n, "max_errors", 1, 1000));
  if (auto n = t.get("command_timeout_seconds"))
    s.command_timeout = get_seconds(*n, "command_timeout_seconds");
  if (auto n = t.get("data_timeout_seconds"))
    s.data_timeout = get_seconds(*n, "data_timeout_seconds");
  if (auto n = t.get("bare_line_endings")) {
    std::string v = get_string(*n, "bare_line_endings");
    if (v == "reject")
      s.normalise_bare_line_endings = false;
    else if (v == "normalise" || v == "normalize")
      s.normalise_bare_line_endings = true;
    else
      fail(*n, "bare_line_endings must be \"reject\" or \"normalise\"");
  }
  if (auto n = t.get("max_connections"))
    s.max_connections = static_cast<uint32_t>(get_int(*n, "max_connections", 1, 1000000));
  if (auto n = t.get("max_connections_per_client"))
    s.max_connections_per_client =
        static_cast<uint32_t>(get_int(*n, "max_connections_per_client", 1, 1000000));
}

void decode_spool(const toml::table& t, SpoolSettings& s) {
  reject_unknown_keys(t, {"segment_size", "write_buffer"}, "[spool]");
  if (auto n = t.get("segment_size"))
    s.segment_size = get_size(*n, "segment_size", 1 << 20, 1ull << 40);
  if (auto n = t.get("write_buffer"))
    s.write_buffer = get_size(*n, "write_buffer", 64 << 10, 256 << 20);
}

bool get_bool(const toml::node& n, std::string_view what) {
  if (auto b = n.value_exact<bool>()) return *b;
  fail(n, std::string(what) + " must be true or false");
}

void decode_pop3(const toml::table& t, Pop3Settings& s) {
  reject_unknown_keys(t,
                      {"max_command_line", "max_errors", "idle_timeout_seconds", "max_connections",
                       "max_connections_per_client"},
                      "[pop3]");
  if (auto n = t.get("max_command_line"))
    s.max_command_line = static_cast<uint32_t>(get_int(*n, "max_command_line", 256, 65536));
  if (auto n = t.get("max_errors"))
    s.max_errors = static_cast<uint32_t>(get_int(*n, "max_errors", 1, 1000));
  if (auto n = t.get("idle_timeout_seconds")) {
    s.idle_timeout = get_seconds(*n, "idle_timeout_seconds");
    if (s.idle_timeout < std::chrono::seconds(600))
      fail(*n, "idle_timeout_seconds must be at least 600 (RFC 1939 3)");
  }
  if (auto n = t.get("max_connections"))
    s.max_connections = static_cast<uint32_t>(get_int(*n, "max_connections", 1, 10000000));
  if (auto n = t.get("max_connections_per_client"))
    s.max_connections_per_client =
        static_cast<uint32_t>(get_int(*n, "max_connections_per_client", 1, 10000000));
}

void decode_deliver(const toml::table& t, DeliverSettings& s) {
  reject_unknown_keys(t,
                      {"hold", "retry_seconds", "over_quota_bounce_after_seconds", "max_in_flight",
                       "max_in_flight_bytes"},
                      "[deliver]");
  if (auto n = t.get("over_quota_bounce_after_seconds"))
    s.over_quota_bounce_after =
        std::chrono::seconds(get_int(*n, "over_quota_bounce_after_seconds", 1, 30 * 86400));
  if (auto n = t.get("hold")) s.hold = get_bool(*n, "hold");
  if (auto n = t.get("retry_seconds")) s.retry = get_seconds(*n, "retry_seconds");
  if (auto n = t.get("max_in_flight"))
    s.max_in_flight = static_cast<uint32_t>(get_int(*n, "max_in_flight", 1, 100000));
  if (auto n = t.get("max_in_flight_bytes"))
    s.max_in_flight_bytes = get_size(*n, "max_in_flight_bytes", 1 << 20, 1ull << 40);
}

void decode_auth(const toml::table& t, AuthSettings& s) {
  reject_unknown_keys(
      t,
      {"verify_threads", "verify_queue", "rehash_on_login", "plaintext", "failures_before_delay",
       "max_login_delay_ms", "failures_before_refusal", "failure_memory_seconds", "tracked_logins"},
      "[auth]");
  if (auto n = t.get("failures_before_delay"))
    s.failures_before_delay =
        static_cast<uint32_t>(get_int(*n, "failures_before_delay", 1, 1000000));
  if (auto n = t.get("max_login_delay_ms"))
    s.max_login_delay = std::chrono::milliseconds(get_int(*n, "max_login_delay_ms", 0, 600000));
  if (auto n = t.get("failures_before_refusal"))
    s.failures_before_refusal =
        static_cast<uint32_t>(get_int(*n, "failures_before_refusal", 1, 1000000));
  if (auto n = t.get("failure_memory_seconds"))
    s.failure_memory = std::chrono::seconds(get_int(*n, "failure_memory_seconds", 1, 86400 * 7));
  if (auto n = t.get("tracked_logins"))
    s.tracked_logins = static_cast<uint32_t>(get_int(*n, "tracked_logins", 100, 10000000));
  if (auto n = t.get("verify_threads"))
    s.verify_threads = static_cast<uint32_t>(get_int(*n, "verify_threads", 1, 64));
  if (auto n = t.get("verify_queue"))
    s.verify_queue = static_cast<uint32_t>(get_int(*n, "verify_queue", 1, 100000));
  if (auto n = t.get("rehash_on_login")) s.rehash_on_login = get_bool(*n, "rehash_on_login");
  if (auto n = t.get("plaintext")) {
    std::string v = get_string(*n, "plaintext");
    if (v == "never")
      s.plaintext = PlaintextAuth::never;
    else if (v == "loopback")
      s.plaintext = PlaintextAuth::loopback;
    else if (v == "always")
      s.plaintext = PlaintextAuth::always;
    else
      fail(*n, "plaintext must be \"never\", \"loopback\" or \"always\"");
  }
}

void decode_volumes(const toml::node& node, Profile& p) {
  auto* arr = node.as_array();
  if (!arr) fail(node, "volumes must be an array of tables ([[volumes]])");
  if (arr->size() != 1)
    fail(node, "this version keeps everything on one volume set: give one [[volumes]]");
  const toml::table& t = as_table((*arr)[0], "[[volumes]]");
  reject_unknown_keys(t, {"name", "members", "maintenance_rate", "io_timeout_seconds"},
                      "[[volumes]]");
  VolumeSetConfig v;
  if (auto n = t.get("name")) {
    v.name = get_string(*n, "name");
    if (v.name != "main") fail(*n, "the volume set must be named \"main\"");
  }
  auto members = t.get("members");
  if (!members) fail((*arr)[0], "[[volumes]] needs members");
  auto* list = members->as_array();
  if (!list || list->empty() || list->size() > 8)
    fail(*members, "members must be a list of 1 to 8 directories");
  v.members.clear();
  for (auto&& m : *list) {
    std::string dir = get_string(m, "a volume member");
    if (dir.empty()) fail(m, "a volume member must not be empty");
    for (const std::string& seen : v.members)
      if (seen == dir) fail(m, "volume member \"" + dir + "\" is listed twice");
    v.members.push_back(dir);
  }
  if (auto n = t.get("io_timeout_seconds"))
    v.io_timeout = std::chrono::seconds(get_int(*n, "io_timeout_seconds", 1, 3600));
  if (auto n = t.get("maintenance_rate"))
    v.maintenance_bytes_per_second = get_size(*n, "maintenance_rate", 1 << 20, 1ull << 40);
  p.volumes = std::move(v);
}

void decode(const toml::table& root, Profile& p) {
  reject_unknown_keys(
      root, {"appliance", "listener", "smtp", "pop3", "spool", "deliver", "auth", "volumes"},
      "the profile");
  if (auto n = root.get("appliance")) decode_appliance(as_table(*n, "[appliance]"), p);
  if (auto n = root.get("listener")) {
    auto* arr = n->as_array();
    if (!arr) fail(*n, "listener must be an array of tables ([[listener]])");
    for (auto&& l : *arr) decode_listener(l, p);
  }
  if (auto n = root.get("smtp")) decode_smtp(as_table(*n, "[smtp]"), p.smtp);
  if (auto n = root.get("spool")) decode_spool(as_table(*n, "[spool]"), p.spool);
  if (auto n = root.get("pop3")) decode_pop3(as_table(*n, "[pop3]"), p.pop3);
  if (auto n = root.get("deliver")) decode_deliver(as_table(*n, "[deliver]"), p.deliver);
  if (auto n = root.get("auth")) decode_auth(as_table(*n, "[auth]"), p.auth);
  if (auto n = root.get("volumes")) decode_volumes(*n, p);
}

}  // namespace

std::string Profile::volume_member_path(const std::string& member) const {
  if (!member.empty() && member[0] == '/') return member;
  if (member == ".") return data_dir;
  return data_dir + "/" + member;
}

const ServiceInfo* find_service(std::string_view name) {
  for (const auto& s : kServices)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view service_name(Service s) {
  for (const auto& info : kServices)
    if (info.service == s) return info.name;
  return "?";
}

Result<Profile> parse_profile(std::string_view text, std::string_view file_name,
                              const ProfileOverrides& overrides) {
  // Old systems leave a Ctrl-Z at the end of text files.
  while (!text.empty() && text.back() == '\x1a') text.remove_suffix(1);
  Profile p;
  p.source = std::string(file_name);
  auto where = [&](const toml::source_position& pos) {
    return std::string(file_name) + ":" + std::to_string(pos.line) + ":" +
           std::to_string(pos.column);
  };
  try {
    toml::table root = toml::parse(text, file_name);
    decode(root, p);
  } catch (const toml::parse_error& e) {
    return make_error(EINVAL, where(e.source().begin) + ": " + std::string(e.description()));
  } catch (const ProfileError& e) {
    return make_error(EINVAL, where(e.where) + ": " + e.message);
  }
  if (overrides.data_dir) p.data_dir = *overrides.data_dir;
  if (overrides.port_base) p.port_base = *overrides.port_base;
  for (auto& l : p.listeners) {
    int port = l.port + p.port_base;
    if (port > 65535)
      return make_error(EINVAL, std::string(file_name) + ": port_base " +
                                    std::to_string(p.port_base) + " puts " +
                                    std::string(service_name(l.service)) + " beyond port 65535");
    l.bound_port = static_cast<uint16_t>(port);
  }
  if (p.listeners.empty())
    return make_error(EINVAL, std::string(file_name) + ":1:1: the profile has no [[listener]]");
  return p;
}

Result<Profile> load_profile(const std::string& path, const ProfileOverrides& overrides) {
  if (path.empty()) return parse_profile(embedded_dev_profile(), "dev.toml (embedded)", overrides);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ENOENT, path + ": cannot open profile");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_profile(ss.str(), path, overrides);
}

}  // namespace postcore
