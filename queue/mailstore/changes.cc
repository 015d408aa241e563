#include "queue/mailstore/changes.h"

#include <cerrno>

#include "queue/spool/wire.h"

namespace postcore::mailstore {
namespace {

namespace wire = spool::wire;

constexpr uint8_t kVersion = 1;
// Messages named by one FlagsChanged or Expunged: a bigger change is logged as several.
constexpr uint32_t kMaxPerChange = 100000;
constexpr size_t kMaxDelivery = 512;

struct Encoder {
  std::string& out;
  void operator()(const FolderCreated& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put_string(out, c.name);
    wire::put<uint32_t>(out, c.uidvalidity);
    wire::put<uint8_t>(out, static_cast<uint8_t>(c.special_use));
  }
  void operator()(const FolderRenamed& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put_string(out, c.name);
  }
  void operator()(const FolderDeleted& c) { wire::put<uint32_t>(out, c.folder); }
  void operator()(const Subscribed& c) {
    wire::put_string(out, c.name);
    wire::put<uint8_t>(out, c.subscribed ? 1 : 0);
  }
  void operator()(const KeywordDefined& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put<uint8_t>(out, c.index);
    wire::put_string(out, c.name);
  }
  void operator()(const Appended& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put<uint32_t>(out, c.uid);
    wire::put<uint64_t>(out, c.modseq);
    wire::put<uint8_t>(out, c.flags);
    wire::put<uint64_t>(out, c.keywords);
    wire::put<int64_t>(out, c.internal_date);
    wire::put<int16_t>(out, c.zone_minutes);
    wire::put<uint64_t>(out, c.size);
    wire::put<uint64_t>(out, c.blob);
    wire::put_string(out, c.uidl);
    wire::put_string(out, c.delivery);
  }
  void operator()(const FlagsChanged& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put<uint64_t>(out, c.modseq);
    wire::put<uint32_t>(out, static_cast<uint32_t>(c.messages.size()));
    for (const FlagsSet& m : c.messages) {
      wire::put<uint32_t>(out, m.uid);
      wire::put<uint8_t>(out, m.flags);
      wire::put<uint64_t>(out, m.keywords);
    }
  }
  void operator()(const Expunged& c) {
    wire::put<uint32_t>(out, c.folder);
    wire::put<uint64_t>(out, c.modseq);
    wire::put<uint32_t>(out, static_cast<uint32_t>(c.uids.size()));
    for (uint32_t uid : c.uids) wire::put<uint32_t>(out, uid);
  }
};

Error bad(std::string_view what) {
  return make_error(EINVAL, "mailbox change: " + std::string(what));
}

bool decode(wire::Decoder& d, FolderCreated& c) {
  uint8_t use = 0;
  const bool ok = d.get(&c.folder) && d.get_string(&c.name, kMaxFolderName) &&
                  d.get(&c.uidvalidity) && d.get(&use) &&
                  use <= static_cast<uint8_t>(SpecialUse::trash);
  c.special_use = static_cast<SpecialUse>(use);
  return ok;
}
bool decode(wire::Decoder& d, FolderRenamed& c) {
  return d.get(&c.folder) && d.get_string(&c.name, kMaxFolderName);
}
bool decode(wire::Decoder& d, FolderDeleted& c) {
  return d.get(&c.folder);
}
bool decode(wire::Decoder& d, Subscribed& c) {
  uint8_t on = 0;
  const bool ok = d.get_string(&c.name, kMaxFolderName) && d.get(&on) && on <= 1;
  c.subscribed = on == 1;
  return ok;
}
bool decode(wire::Decoder& d, KeywordDefined& c) {
  return d.get(&c.folder) && d.get(&c.index) && c.index < kMaxKeywords &&
         d.get_string(&c.name, kMaxKeyword);
}
bool decode(wire::Decoder& d, Appended& c) {
  return d.get(&c.folder) && d.get(&c.uid) && d.get(&c.modseq) && d.get(&c.flags) &&
         (c.flags & ~kAllSystemFlags) == 0 && d.get(&c.keywords) && d.get(&c.internal_date) &&
         d.get(&c.zone_minutes) && d.get(&c.size) && d.get(&c.blob) &&
         d.get_string(&c.uidl, kMaxUidl) && d.get_string(&c.delivery, kMaxDelivery);
}
bool decode(wire::Decoder& d, FlagsChanged& c) {
  uint32_t n = 0;
  if (!d.get(&c.folder) || !d.get(&c.modseq) || !d.get(&n) || n > kMaxPerChange) return false;
  c.messages.resize(n);
  for (FlagsSet& m : c.messages)
    if (!d.get(&m.uid) || !d.get(&m.flags) || (m.flags & ~kAllSystemFlags) != 0 ||
        !d.get(&m.keywords))
      return false;
  return true;
}
bool decode(wire::Decoder& d, Expunged& c) {
  uint32_t n = 0;
  if (!d.get(&c.folder) || !d.get(&c.modseq) || !d.get(&n) || n > kMaxPerChange) return false;
  c.uids.resize(n);
  for (uint32_t& uid : c.uids)
    if (!d.get(&uid)) return false;
  return true;
}

template <size_t I = 0>
bool decode_kind(wire::Decoder& d, size_t kind, Change& out) {
  if constexpr (I < std::variant_size_v<Change>) {
    if (kind != I) return decode_kind<I + 1>(d, kind, out);
    std::variant_alternative_t<I, Change> change;
    if (!decode(d, change)) return false;
    out = std::move(change);
    return true;
  } else {
    return false;
  }
}

}  // namespace

std::string encode_change(const Change& change) {
  std::string out;
  wire::put<uint8_t>(out, kVersion);
  wire::put<uint8_t>(out, static_cast<uint8_t>(change.index()));
  std::visit(Encoder{out}, change);
  return out;
}

Result<Change> decode_change(std::string_view payload) {
  wire::Decoder d(payload);
  uint8_t version = 0, kind = 0;
  if (!d.get(&version) || !d.get(&kind)) return bad("too short");
  if (version != kVersion) return bad("unknown version " + std::to_string(version));
  if (kind >= std::variant_size_v<Change>) return bad("unknown kind " + std::to_string(kind));
  Change change;
  if (!decode_kind(d, kind, change)) return bad("malformed payload");
  if (!d.done()) return bad("bytes after the payload");
  return change;
}

}  // namespace postcore::mailstore
