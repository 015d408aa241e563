#include "queue/spool/envelope_codec.h"

#include <cerrno>

#include "queue/spool/record.h"
#include "queue/spool/wire.h"

namespace postcore::spool {
namespace {

// Version 1 had no delivery targets and no AUTH identity; it is still read, as an empty
// expansion and an anonymous session.
constexpr uint8_t kEnvelopeVersion = 2;
constexpr uint8_t kTargetRemote = 1;
constexpr uint8_t kTargetImplicit = 2;
// Generous bounds that still stop a damaged length from allocating gigabytes.
constexpr size_t kMaxField = 64 * 1024;
constexpr uint32_t kMaxRecipients = 1u << 20;

bool decode_targets(wire::Decoder& d, std::vector<DeliveryTarget>& targets) {
  uint32_t count = 0;
  d.get(&count);
  if (!d.ok() || count > kMaxRecipients) return false;
  targets.reserve(std::min<size_t>(count, d.remaining() / 5));
  for (uint32_t i = 0; i < count && d.ok(); i++) {
    uint8_t flags = 0;
    d.get(&flags);
    if (flags & ~(kTargetRemote | kTargetImplicit)) return false;
    DeliveryTarget& t = targets.emplace_back();
    t.kind = (flags & kTargetRemote) ? DeliveryTarget::remote : DeliveryTarget::local;
    t.implicit = (flags & kTargetImplicit) != 0;
    if (t.implicit && t.kind == DeliveryTarget::remote) return false;
    d.get_string(&t.address, kMaxField);
  }
  return d.ok();
}

}  // namespace

Result<std::string> encode_envelope(const Envelope& e) {
  auto too_long = [](const std::string& field) { return field.size() > kMaxField; };
  bool fits = e.recipients.size() <= kMaxRecipients && !too_long(e.client_address) &&
              !too_long(e.helo) && !too_long(e.mail_from) && !too_long(e.envid) &&
              !too_long(e.auth_user);
  for (const Recipient& r : e.recipients) {
    fits = fits && !too_long(r.address) && !too_long(r.orcpt) && r.targets.size() <= kMaxRecipients;
    for (const DeliveryTarget& t : r.targets) fits = fits && !too_long(t.address);
  }
  if (!fits) return make_error(EMSGSIZE, "envelope too large to store");
  std::string out;
  out.reserve(64 + e.client_address.size() + e.helo.size() + e.mail_from.size() + e.envid.size() +
              e.recipients.size() * 48);
  wire::put<uint8_t>(out, kEnvelopeVersion);
  wire::put<uint8_t>(out, e.esmtp ? 1 : 0);
  wire::put<uint8_t>(out, static_cast<uint8_t>(e.body));
  wire::put<uint8_t>(out, e.smtputf8 ? 1 : 0);
  wire::put<uint8_t>(out, static_cast<uint8_t>(e.ret));
  wire::put<uint64_t>(out, e.declared_size);
  wire::put<int64_t>(out, e.received_at);
  wire::put_string(out, e.client_address);
  wire::put_string(out, e.helo);
  wire::put_string(out, e.mail_from);
  wire::put_string(out, e.envid);
  wire::put_string(out, e.auth_user);
  wire::put<uint32_t>(out, static_cast<uint32_t>(e.recipients.size()));
  for (const Recipient& r : e.recipients) {
    wire::put<uint8_t>(out, r.notify);
    wire::put_string(out, r.address);
    wire::put_string(out, r.orcpt);
    wire::put<uint32_t>(out, static_cast<uint32_t>(r.targets.size()));
    for (const DeliveryTarget& t : r.targets) {
      uint8_t flags = 0;
      if (t.kind == DeliveryTarget::remote) flags |= kTargetRemote;
      if (t.implicit) flags |= kTargetImplicit;
      wire::put<uint8_t>(out, flags);
      wire::put_string(out, t.address);
    }
  }
  if (out.size() > kMaxRecordPayload) return make_error(EMSGSIZE, "envelope too large to store");
  return out;
}

Result<Envelope> decode_envelope(std::string_view payload) {
  wire::Decoder d(payload);
  Envelope e;
  uint8_t version = 0, esmtp = 0, body = 0, smtputf8 = 0, ret = 0;
  d.get(&version);
  if (d.ok() && version != 1 && version != kEnvelopeVersion) {
    return make_error(EBADMSG, "unknown envelope version " + std::to_string(version));
  }
  d.get(&esmtp);
  d.get(&body);
  d.get(&smtputf8);
  d.get(&ret);
  d.get(&e.declared_size);
  d.get(&e.received_at);
  d.get_string(&e.client_address, kMaxField);
  d.get_string(&e.helo, kMaxField);
  d.get_string(&e.mail_from, kMaxField);
  d.get_string(&e.envid, kMaxField);
  if (version >= 2) d.get_string(&e.auth_user, kMaxField);
  uint32_t count = 0;
  d.get(&count);
  if (!d.ok() || count > kMaxRecipients || esmtp > 1 || smtputf8 > 1 ||
      body > static_cast<uint8_t>(BodyType::binary_mime) ||
      ret > static_cast<uint8_t>(DsnRet::hdrs)) {
    return make_error(EBADMSG, "malformed envelope");
  }
  e.esmtp = esmtp == 1;
  e.smtputf8 = smtputf8 == 1;
  e.body = static_cast<BodyType>(body);
  e.ret = static_cast<DsnRet>(ret);
  e.recipients.reserve(std::min<size_t>(count, d.remaining() / 9));
  for (uint32_t i = 0; i < count && d.ok(); i++) {
    Recipient r;
    d.get(&r.notify);
    d.get_string(&r.address, kMaxField);
    d.get_string(&r.orcpt, kMaxField);
    if (version >= 2 && !decode_targets(d, r.targets)) {
      return make_error(EBADMSG, "malformed envelope");
    }
    e.recipients.push_back(std::move(r));
  }
  if (!d.done()) return make_error(EBADMSG, "malformed envelope");
  return e;
}

}  // namespace postcore::spool
