// MailShard: the mailboxes one core owns, durable on the volume set.
//
// Two logs, each a spool shard (queue/spool) in its own directory, so they inherit the
// spool's record format, CRC32C checks, group commit, mirrored recovery, indexes of
// sealed segments and segment reclaiming, and the spool's read-only reader:
//
//   DATA/mail/log/shard-NNN   every change to an account (changes.h) as one entry: the
//                             account's name and the encoded change (mail_index.h).
//                             Replayed in order at start-up.
//   DATA/mail/blob/shard-NNN  message octets, one entry per message however many
//                             mailboxes hold it.
//
// An entry's one "recipient" bit means "no longer needed": a blob's is set once no
// mailbox refers to it, so a segment whose blobs are all expunged is deleted.
//
// Changes are checked and applied to the in-memory AccountState when they are proposed,
// so the next proposal sees them (UIDs and MODSEQs are handed out in order), and each
// proposal is answered only when it and everything proposed before it is durable. Replay
// applies the same entries in the same order with the same checks, so it rebuilds
// exactly the state that was answered; an entry that does not fit at replay (because an
// earlier one was torn by a crash) was never answered, and is skipped and counted. A
// message appended but not yet durable is hidden from readers (visible()).
//
// If a log write fails on every member of the volume set, the shard stops: every pending
// and later proposal fails, and the state is rebuilt only by opening it again.
//
// Threading: everything on the owning core. Callbacks run from flush(), never inside the
// call that registered them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "queue/mailstore/account_state.h"
#include "queue/mailstore/changes.h"
#include "queue/mailstore/mail_index.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/file_io.h"

namespace postcore::mailstore {

struct MailShardOptions {
  std::string root;  // DATA/mail
  uint16_t shard = 0;
  uint64_t segment_bytes = 64ull << 20;
  size_t write_buffer_bytes = 1 << 20;
  // Told an account's size (AccountState::total_size) whenever it changes, and for every
  // account once the log is replayed.
  std::function<void(const std::string& account, uint64_t bytes)> on_usage;
};

struct MailRecovery {
  uint64_t accounts = 0;
  uint64_t messages = 0;            // in every folder of every account
  uint64_t changes = 0;             // log entries applied
  uint64_t changes_skipped = 0;     // log entries that did not fit: never answered
  uint64_t entries_unreadable = 0;  // of those, entries that could not be read or decoded
  // Appends in the log whose octets never became durable: never answered, never shown.
  uint64_t appends_discarded = 0;
  uint64_t blobs = 0;                 // message octets referred to by some mailbox
  uint64_t blobs_released = 0;        // stored, referred to by none (an append never answered)
  std::vector<std::string> problems;  // one line per skipped entry or unreadable one
  spool::RecoveryReport log;
  spool::RecoveryReport blob;
};

// One mailbox a message goes into.
struct AppendTarget {
  std::string account;           // "name@domain", as the directory names it
  std::string folder = "INBOX";  // created when missing
  uint8_t flags = 0;
  std::vector<std::string> keywords;  // defined in the folder when missing
  std::string uidl;                   // a POP3 UIDL carried over; empty: derived
  std::string delivery;               // the spool delivery this settles (AccountState::delivered)
};

struct AppendedAt {
  uint32_t folder = 0;
  uint32_t uid = 0;
};

class MailShard {
 public:
  using Done = std::function<void(Result<void>)>;
  using AppendDone = std::function<void(Result<std::vector<AppendedAt>>)>;
  struct Handle {
    spool::SpoolShard::Handle blob;
  };

  MailShard(volume::FileIo& io, MailShardOptions options);
  ~MailShard();
  MailShard(const MailShard&) = delete;
  MailShard& operator=(const MailShard&) = delete;

  // Creates the directories and replays the log. Synchronous.
  Result<MailRecovery> open();

  // A new message: its octets (CRLF line ends, as IMAP and POP3 serve them) in pieces of
  // any size, then append() into one or more mailboxes, or abort().
  Result<Handle> begin_message();
  void write(Handle handle, std::string_view octets);
  void abort(Handle handle);
  // Appends the message to every target; `done` gets their UIDs once all of it is
  // durable. A target already holding its `delivery` is refused (EEXIST), as is one
  // that does not fit; then nothing is appended.
  void append(Handle handle, std::vector<AppendTarget> targets, int64_t internal_date,
              int16_t zone_minutes, AppendDone done);

  // Any other change, checked now and answered once durable. Expunges release the
  // messages' octets when nothing else refers to them.
  void change(std::string_view account, Change change, Done done);

  // The account as proposed so far; null before its first change.
  const AccountState* account(std::string_view name) const;
  // False for a message whose append is not durable yet: not to be shown.
  bool visible(std::string_view account, uint32_t folder, uint32_t uid) const;
  // POP3's maildrop lock (RFC 1939 8): one session per account at a time, on any core.
  bool lock_maildrop(const std::string& account) { return maildrop_locks_.insert(account).second; }
  void unlock_maildrop(const std::string& account) { maildrop_locks_.erase(account); }

  // The octets of a visible message, every piece verified.
  Result<void> read(uint64_t blob, const spool::ContentSink& sink) const;

  // Deletes the stored octets' segments that no mailbox refers to any more (synchronous,
  // like SpoolShard::reclaim); returns how many went.
  Result<size_t> reclaim() { return blobs_->reclaim(); }

  // Call once per loop iteration: group commit of both logs, and answers.
  void flush();
  bool idle() const;
  // A log write failed for good; nothing is accepted until the shard is opened again.
  bool failed() const { return failed_; }
  size_t pending() const { return ops_.size(); }

 private:
  struct Op {
    uint32_t outstanding = 0;
    bool failed = false;
    Error error;
    std::function<void(Result<void>)> done;
    std::vector<uint64_t> released;  // blobs whose last reference this op removed
    std::vector<std::pair<std::string, uint32_t>> appended_folders;  // (account, folder)
  };

  Result<void> propose(Op& op, const std::string& account, const Change& change);
  spool::SpoolShard::DurableCallback on_durable(Op& op);
  void submit(std::unique_ptr<Op> op);
  void settle();
  Error stopped() const;
  Result<void> replay_entry(std::string_view entry, MailRecovery& report);
  Result<uint32_t> ensure_folder(Op& op, const std::string& account, const std::string& name);
  Result<uint8_t> ensure_keyword(Op& op, const std::string& account, uint32_t folder,
                                 const std::string& keyword);

  volume::FileIo& io_;
  MailShardOptions options_;
  std::unique_ptr<spool::SpoolShard> log_;
  std::unique_ptr<spool::SpoolShard> blobs_;
  bool opened_ = false;
  bool failed_ = false;
  Error failure_;
  MailIndex index_;
  // Per (account, folder): UIDs appended whose op is not answered yet, ascending.
  std::map<std::pair<std::string, uint32_t>, std::deque<uint32_t>> hidden_;
  std::deque<std::unique_ptr<Op>> ops_;           // unanswered, in proposal order
  std::unordered_map<uint32_t, uint64_t> sizes_;  // octets written, by open message slot
  std::unordered_set<std::string> maildrop_locks_;
};

// DATA/mail, and in it the log and blob roots that hold a directory per shard.
std::string mail_root(const std::string& data_dir);
std::string mail_log_root(const std::string& mail_root);
std::string mail_blob_root(const std::string& mail_root);

}  // namespace postcore::mailstore
