// The changes that make an account's mailboxes what they are, as the mailbox store logs
// them: each is a whole, physical fact ("message UID 7 now has flags \Seen and keyword 2,
// at modseq 41"), never an instruction to be interpreted again ("add \Seen"), so replaying
// the log gives exactly the state that was acknowledged, whatever code replays it. The
// IMAP, POP3 and delivery code decide; AccountState (account_state.h) checks and applies.
//
// The binary encoding is versioned and strict: a payload that is short, long, or names
// more than a limit allows is refused, never guessed at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace postcore::mailstore {

// IMAP's system flags (RFC 3501 2.3.2); \Recent belongs to sessions and is never stored.
enum SystemFlag : uint8_t {
  flag_seen = 1,
  flag_answered = 2,
  flag_flagged = 4,
  flag_deleted = 8,
  flag_draft = 16,
};
inline constexpr uint8_t kAllSystemFlags = 31;

// Keywords are kept per folder, numbered as they are first used; a message holds them as
// a mask, so a folder has at most this many (IMAP then stops offering \* in PERMANENTFLAGS).
inline constexpr size_t kMaxKeywords = 64;
inline constexpr size_t kMaxFolderName = 1024;  // octets of UTF-8
inline constexpr size_t kMaxKeyword = 255;
inline constexpr size_t kMaxUidl = 70;  // RFC 1939 7

// RFC 6154 attributes of a folder.
enum class SpecialUse : uint8_t { none, all, archive, drafts, flagged, junk, sent, trash };

struct FolderCreated {
  uint32_t folder = 0;  // the account's id for it; never used again for another folder
  std::string name;     // UTF-8, hierarchy separator '/'
  uint32_t uidvalidity = 0;
  SpecialUse special_use = SpecialUse::none;
};

struct FolderRenamed {
  uint32_t folder = 0;
  std::string name;
};

struct FolderDeleted {
  uint32_t folder = 0;
};

// Subscriptions are by name: RFC 3501 6.3.6 lets a name be subscribed that does not exist.
struct Subscribed {
  std::string name;
  bool subscribed = true;
};

struct KeywordDefined {
  uint32_t folder = 0;
  uint8_t index = 0;  // the next free one
  std::string name;
};

// Where a message's octets are and what IMAP needs without reading them; owned by the store.
struct Appended {
  uint32_t folder = 0;
  uint32_t uid = 0;     // at least the folder's uidnext
  uint64_t modseq = 0;  // above the folder's highest
  uint8_t flags = 0;
  uint64_t keywords = 0;
  int64_t internal_date = 0;  // seconds since the epoch
  int16_t zone_minutes = 0;   // INTERNALDATE's zone, east of UTC
  uint64_t size = 0;          // RFC822.SIZE: octets with CRLF line ends
  uint64_t blob = 0;          // the store's reference to the octets
  std::string uidl;           // a POP3 UIDL carried over from another server; empty: derived
  // Delivery from the spool: the queue id of the message this append settles for the
  // account, so that a delivery repeated after a crash is recognised as done (empty for
  // other appends).
  std::string delivery;
};

struct FlagsSet {
  uint32_t uid = 0;
  uint8_t flags = 0;
  uint64_t keywords = 0;
};

// One STORE (or the flag part of COPY/MOVE bookkeeping): the messages' new flags, all at
// one modseq.
struct FlagsChanged {
  uint32_t folder = 0;
  uint64_t modseq = 0;
  std::vector<FlagsSet> messages;  // ascending uids, each present in the folder
};

struct Expunged {
  uint32_t folder = 0;
  uint64_t modseq = 0;
  std::vector<uint32_t> uids;  // ascending, each present in the folder
};

using Change = std::variant<FolderCreated, FolderRenamed, FolderDeleted, Subscribed, KeywordDefined,
                            Appended, FlagsChanged, Expunged>;

std::string encode_change(const Change& change);
Result<Change> decode_change(std::string_view payload);

}  // namespace postcore::mailstore
