// MailIndex: the accounts of one mail shard and how many mailboxes hold each stored
// message, changed only through apply(). The shard proposes through it, start-up replays
// its log through it, and the offline tools rebuild a shard read-only with it, so all
// three agree on what a log means.
//
// A log entry is one change to one account: version, account name, encoded change.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "queue/mailstore/account_state.h"
#include "queue/mailstore/changes.h"

namespace postcore::mailstore {

inline constexpr size_t kMaxAccountName = 320;  // "name@domain" as the directory has it

struct LogEntry {
  std::string account;
  Change change;
};
std::string encode_log_entry(std::string_view account, const Change& change);
Result<LogEntry> decode_log_entry(std::string_view bytes);

class MailIndex {
 public:
  // Checks `change` against the account (created empty on its first change) and applies
  // it; on error nothing changed. Octets that no mailbox holds any more go to `released`.
  Result<void> apply(const std::string& account, const Change& change,
                     std::vector<uint64_t>* released = nullptr);

  const AccountState* account(std::string_view name) const;
  const std::unordered_map<std::string, std::unique_ptr<AccountState>>& accounts() const {
    return accounts_;
  }
  bool referenced(uint64_t blob) const { return references_.count(blob) != 0; }
  uint64_t messages() const;  // in every folder of every account

  // Start-up: applies one log entry as apply() does (an append whatever became of its
  // octets: a later expunge in the log may have released them, and the append's UID and
  // delivery must count). `stored` says whether an append's octets are stored now.
  Result<void> replay(const LogEntry& entry, bool stored);
  // After the last entry: discards (AccountState::discard) the appends whose octets were
  // not stored and that no later entry expunged. Returns how many.
  size_t discard_unstored();

 private:
  std::unordered_map<std::string, std::unique_ptr<AccountState>> accounts_;
  std::unordered_map<uint64_t, uint32_t> references_;  // blob -> mailboxes holding it
  struct Unstored {
    std::string account;
    uint32_t folder = 0;
    uint32_t uid = 0;
    uint64_t blob = 0;
    std::string delivery;
  };
  std::vector<Unstored> unstored_;  // during replay
};

}  // namespace postcore::mailstore
