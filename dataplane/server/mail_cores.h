// MailCores: which core owns each account's mailboxes, and the way to run work there.
//
// An account belongs to core hash(address) % cores, for as long as the store holds mail:
// the mail directory records the core count it was made with, and once a mailbox exists
// a dataplane started with another count refuses to start rather than look for mailboxes
// on the wrong core. (An empty store takes the new count.)
//
// Shared by every core; tasks cross with Reactor::post, and a core that has stopped
// takes none (run_on answers false).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "dataplane/engine/reactor.h"
#include "queue/mailstore/mail_shard.h"
#include "queue/volume/file_io.h"

namespace postcore::server {

class MailCores {
 public:
  explicit MailCores(unsigned count);

  unsigned count() const { return count_; }
  unsigned owner(std::string_view account) const;

  // From core `core`'s thread, once its shard is open, and before its reactor stops.
  void attach(unsigned core, engine::Reactor* reactor, mailstore::MailShard* shard);
  void detach(unsigned core);

  // Octets in every folder of `account`, as its owning core last published them; the
  // SMTP service reads it at RCPT to refuse mail for a full mailbox early.
  void set_usage(const std::string& account, uint64_t bytes);
  uint64_t usage(const std::string& account) const;

  // Runs `task` on core `core` with its shard. False (and `task` dropped) when that core
  // is not running.
  bool run_on(unsigned core, std::function<void(mailstore::MailShard&)> task);

 private:
  unsigned count_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> usage_;
  std::vector<engine::Reactor*> reactors_;
  std::vector<mailstore::MailShard*> shards_;
};

// DATA/mail/cores holds the core count the store was made with. Writes it on the first
// start and whenever the store is empty; refuses another count once it holds mail, with
// an error saying what to set.
Result<void> check_mail_layout(volume::FileIo& io, const std::string& data_dir, unsigned count);

}  // namespace postcore::server
