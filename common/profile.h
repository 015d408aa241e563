// Profile: a machine profile (hwprofiles/*.toml) decoded and validated. Every value a
// component may need to tune is here with its default, so components never read TOML.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace postcore {

enum class Service { smtp, submission, pop3 };

struct ServiceInfo {
  Service service;
  std::string_view name;
  uint16_t standard_port;
};
const ServiceInfo* find_service(std::string_view name);
std::string_view service_name(Service s);

struct ListenerConfig {
  Service service = Service::smtp;
  std::string address;  // numeric IP; empty when on_aliases
  // address = "aliases": listen on every IP alias (postcorectl ip) carrying this service,
  // following them as they are added and removed.
  bool on_aliases = false;
  uint16_t port = 0;        // standard port, before port_base
  uint16_t bound_port = 0;  // port + port_base: what is actually bound
};

struct SmtpSettings {
  std::vector<std::string> local_domains;  // lower case
  uint64_t max_message_size = 50ull << 20;
  uint32_t max_recipients = 1000;
  uint32_t max_expanded_recipients = 20000;
  uint32_t max_command_line = 512;
  uint32_t max_text_line = 1000;
  uint32_t max_errors = 10;
  std::chrono::seconds command_timeout{300};
  std::chrono::seconds data_timeout{180};
  bool normalise_bare_line_endings = false;   // false: 550 5.6.0
  uint32_t max_connections = 10000;           // in total
  uint32_t max_connections_per_client = 100;  // per client IP address
};

struct SpoolSettings {
  uint64_t segment_size = 64ull << 20;
  uint64_t write_buffer = 1ull << 20;
};

// The POP3 service (RFC 1939).
struct Pop3Settings {
  uint32_t max_command_line = 1024;
  uint32_t max_errors = 10;
  std::chrono::seconds idle_timeout{600};    // RFC 1939 3: at least 10 minutes
  uint32_t max_connections = 10000;          // in total
  uint32_t max_connections_per_client = 50;  // per client IP address
};

// Local delivery: spooled messages into the mailboxes of their local recipients.
struct DeliverSettings {
  // Local delivery waits: spooled mail stays in the spool (listed by `postcore spool list`)
  // until the dataplane runs with hold off again.
  bool hold = false;
  // A delivery that failed (the mailbox's core busy or its store stopped) is tried again
  // after this long.
  std::chrono::seconds retry = std::chrono::seconds(60);
  // A message that finds a mailbox over its quota is tried again (every `retry`) for this
  // long, then waits in the spool for a bounce.
  std::chrono::seconds over_quota_bounce_after = std::chrono::seconds(86400);
  uint32_t max_in_flight = 64;               // messages being delivered at once, per core
  uint64_t max_in_flight_bytes = 256 << 20;  // their octets held in memory, per core
};

// Logins (SMTP AUTH on the submission service; POP and IMAP later).
enum class PlaintextAuth {
  never,     // no password over an unencrypted connection
  loopback,  // only from clients on 127.0.0.0/8 or ::1
  always,
};

struct AuthSettings {
  uint32_t verify_threads = 2;  // password checks run on these, never on a reactor
  uint32_t verify_queue = 256;  // checks waiting for a thread; more get 454 4.7.0
  // On a successful login with a password stored in an older scheme, store it again as
  // yescrypt.
  bool rehash_on_login = true;
  PlaintextAuth plaintext = PlaintextAuth::loopback;
  // Failed logins, counted per client address and per account for every service (SMTP AUTH,
  // POP3, IMAP): from `failures_before_delay` on, every login answer from that address or for
  // that account waits, 1 s doubling per further failure up to `max_login_delay`; from
  // `failures_before_refusal` failures of one address on, its logins are refused (a temporary
  // failure) without being checked. An account's own count only ever slows its logins down,
  // so no attacker can lock a user out from everywhere. Failures older than
  // `failure_memory` are forgotten; `tracked_logins` addresses and as many accounts are
  // remembered at most.
  uint32_t failures_before_delay = 3;
  std::chrono::milliseconds max_login_delay{15000};
  uint32_t failures_before_refusal = 30;
  std::chrono::seconds failure_memory{900};
  uint32_t tracked_logins = 100000;
};

// A mirrored volume set: member directories, each meant to sit on its own disk. Relative
// members are relative to the data directory.
struct VolumeSetConfig {
  std::string name = "main";
  std::vector<std::string> members = {"."};
  // Scrub and resilver I/O, reads and writes together: what ingest gives up to them.
  uint64_t maintenance_bytes_per_second = 100ull << 20;
  // A member that takes longer to answer a write, fdatasync, open or read is degraded.
  std::chrono::seconds io_timeout{30};
};

struct Profile {
  std::string source;  // file name, or "dev.toml (embedded)"
  std::string hostname = "localhost";
  std::string data_dir = "./var";
  int32_t port_base = 0;
  uint32_t cores = 0;  // 0: one reactor per available core
  std::string log_level = "info";
  std::chrono::seconds shutdown_grace{10};
  std::vector<ListenerConfig> listeners;
  SmtpSettings smtp;
  Pop3Settings pop3;
  DeliverSettings deliver;
  SpoolSettings spool;
  AuthSettings auth;
  // The set durable state lives on (the spool; later mailboxes and the store). Without
  // [[volumes]] in the profile: one member, the data directory itself.
  VolumeSetConfig volumes;

  // Member `member` of the volume set as a path: relative ones under the data directory.
  std::string volume_member_path(const std::string& member) const;
};

struct ProfileOverrides {
  std::optional<std::string> data_dir;
  std::optional<int32_t> port_base;
};

// Parses `text` read from `file_name`. Errors are "FILE:LINE:COLUMN: message".
// CRLF line ends and a trailing Ctrl-Z (0x1A) are accepted; unknown keys are errors.
Result<Profile> parse_profile(std::string_view text, std::string_view file_name,
                              const ProfileOverrides& overrides = {});
// Reads FILE, or the embedded dev.toml when `path` is empty.
Result<Profile> load_profile(const std::string& path, const ProfileOverrides& overrides = {});

std::string_view embedded_dev_profile();

}  // namespace postcore
