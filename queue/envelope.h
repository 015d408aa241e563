// The SMTP envelope of one message as the spool stores it and delivery reads it back.
// A plain value type: the SMTP protocol fills it, the spool encodes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace postcore {

enum class BodyType : uint8_t {
  unspecified = 0,
  seven_bit = 1,
  eight_bit_mime = 2,
  binary_mime = 3
};
enum class DsnRet : uint8_t { unspecified = 0, full = 1, hdrs = 2 };

// RFC 3461 NOTIFY as a bit set; 0 means the client gave no NOTIFY parameter.
enum DsnNotify : uint8_t {
  notify_never = 1,
  notify_success = 2,
  notify_failure = 4,
  notify_delay = 8
};

// Where an accepted recipient's mail goes, as the directory expanded it when RCPT was
// answered (account aliases, forwarders and groups followed): a local mailbox or an
// outside address. Delivery reads these; it does not resolve the recipient again.
struct DeliveryTarget {
  enum Kind : uint8_t { local = 0, remote = 1 };
  Kind kind = local;
  std::string address;  // local: "name@canonical-domain", lower-case
  // local only: the domain's postmaster, which has no account yet (delivery creates it).
  bool implicit = false;

  friend bool operator==(const DeliveryTarget&, const DeliveryTarget&) = default;
};

struct Recipient {
  std::string address;  // as given in RCPT TO, without angle brackets
  uint8_t notify = 0;   // DsnNotify bits
  std::string orcpt;    // RFC 3461 ORCPT, "addr-type;xtext", empty if absent
  // The expansion, in the order the directory reached the targets. Empty when the message
  // was accepted without a directory (only the profile's local domains): delivery then
  // resolves the address itself.
  std::vector<DeliveryTarget> targets;
};

struct Envelope {
  std::string client_address;  // peer IP as text
  std::string helo;            // EHLO/HELO argument
  bool esmtp = false;          // EHLO (true) or HELO (false)
  std::string mail_from;       // reverse path without angle brackets; empty for <>
  uint64_t declared_size = 0;  // SIZE= parameter, 0 if absent
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnRet ret = DsnRet::unspecified;
  std::string envid;  // RFC 3461 ENVID (xtext as received), empty if absent
  std::vector<Recipient> recipients;
  int64_t received_at = 0;  // unix seconds when the transaction began
  // The login name the client authenticated as (SMTP AUTH), empty for an anonymous session.
  std::string auth_user;
};

}  // namespace postcore
