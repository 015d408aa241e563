// AccountState: an account's folders and messages as IMAP and POP3 see them (names,
// UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and per message its UID, flags, keywords, MODSEQ,
// INTERNALDATE, size, POP3 UIDL and where its octets are), built only by applying changes
// (changes.h). Whatever changed the account, live or replayed from the log after a crash,
// went through apply(), which refuses a change that does not fit (a UID that does not
// ascend, a MODSEQ that does not rise, a message or keyword that is not there) and leaves
// the state as it was.
//
// Threads: one owner (the core that owns the account); no locking inside.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "queue/mailstore/changes.h"

namespace postcore::mailstore {

struct Message {
  uint32_t uid = 0;
  uint8_t flags = 0;
  uint64_t keywords = 0;
  uint64_t modseq = 0;
  int64_t internal_date = 0;
  int16_t zone_minutes = 0;
  uint64_t size = 0;
  uint64_t blob = 0;
};

class Folder {
 public:
  Folder(const FolderCreated& created);

  uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  uint32_t uidvalidity() const { return uidvalidity_; }
  uint32_t uidnext() const { return uidnext_; }
  // RFC 7162: 1 for a folder nothing has changed yet.
  uint64_t highest_modseq() const { return highest_modseq_; }
  SpecialUse special_use() const { return special_use_; }
  const std::vector<Message>& messages() const { return messages_; }  // ascending UIDs
  uint64_t total_size() const { return total_size_; }
  std::optional<size_t> index_of(uint32_t uid) const;
  const std::vector<std::string>& keywords() const { return keywords_; }  // bit i: keywords_[i]
  std::optional<uint8_t> keyword_index(std::string_view name) const;      // without case
  // The POP3 UIDL: the one carried over from another server, else Dovecot's default form
  // (%08Xu%08Xv: UID then UIDVALIDITY in upper-case hex), which never changes either.
  std::string uidl(const Message& m) const;

 private:
  friend class AccountState;

  uint32_t id_;
  std::string name_;
  uint32_t uidvalidity_;
  uint32_t uidnext_ = 1;
  uint64_t highest_modseq_ = 1;
  SpecialUse special_use_;
  std::vector<Message> messages_;
  uint64_t total_size_ = 0;
  std::vector<std::string> keywords_;
  std::unordered_map<uint32_t, std::string> uidls_;  // carried-over UIDLs by UID
};

class AccountState {
 public:
  // Checks `change` against the state and applies it; on error nothing changed.
  Result<void> apply(const Change& change);

  const Folder* folder(uint32_t id) const;
  // INBOX is found in any case (RFC 3501 5.1); other names as they are.
  const Folder* folder_named(std::string_view name) const;
  std::vector<const Folder*> folders() const;  // by name
  uint64_t total_size() const;                 // octets in every folder: what quotas count
  bool subscribed(std::string_view name) const { return subscriptions_.count(std::string(name)); }
  const std::unordered_set<std::string>& subscriptions() const { return subscriptions_; }

  // For whoever proposes changes: the next unused folder id, and a UIDVALIDITY for a new
  // folder that no folder of this account was ever given (`now`: seconds since the epoch,
  // the usual choice, kept above every earlier one).
  uint32_t next_folder_id() const { return next_folder_id_; }
  uint32_t next_uidvalidity(uint32_t now) const;
  // Whether the spool delivery named `key` was appended already.
  bool delivered(std::string_view key) const { return deliveries_.count(std::string(key)); }

  // Start-up only: a message whose append reached the log but whose octets never became
  // durable (a power cut between the two) was never answered nor shown. It goes without a
  // trace but its UID, which stays used, and its delivery is forgotten so that the spool
  // delivers it again. False when the folder holds no such UID.
  bool discard(uint32_t folder, uint32_t uid, const std::string& delivery);

 private:
  Result<void> check(const Change& change) const;
  void apply_checked(const Change& change);
  Folder* mutable_folder(uint32_t id);
  std::string name_key(std::string_view name) const;  // INBOX upper-cased, others as given

  std::map<uint32_t, std::unique_ptr<Folder>> folders_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::unordered_set<std::string> subscriptions_;
  std::unordered_set<std::string> deliveries_;
  uint32_t next_folder_id_ = 1;
  uint32_t last_uidvalidity_ = 0;
};

}  // namespace postcore::mailstore
