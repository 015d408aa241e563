// Delivery: moves the local recipients of one spool shard's messages into their
// mailboxes, exactly once.
//
// For each live message it reads the envelope, and for every recipient not yet done it
// takes the local targets the directory expanded at RCPT (or, without a directory, the
// address itself). Targets are grouped by the core that owns their account (MailCores);
// each owning core appends the octets once for all of its targets, every append carrying
// the queue id as its delivery key: an account gets one copy of a message however many
// of its recipients lead to it, and whichever attempt appends it. When every local target of a
// recipient is in its mailbox, and the recipient has no outside target (those wait for relaying),
// the spool records the recipient done; once all are, the spool may reclaim the message.
//
// A crash between the append and the spool's DONE record loses nothing and duplicates
// nothing: at the next start the message is delivered again, the owning core finds the
// delivery key in the account (AccountState::delivered) and answers "already there".
//
// Threading: the spool shard's core. Tasks go to owning cores and answers come back
// through MailCores.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/profile.h"
#include "control/directory/directory.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/server/mail_cores.h"
#include "queue/spool/spool_shard.h"

namespace postcore::server {

class Delivery {
 public:
  Delivery(unsigned core, engine::Reactor& reactor, spool::SpoolShard& spool, MailCores& cores,
           const DeliverSettings& settings, std::shared_ptr<const directory::Directory> directory);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Queues every live message of the shard: what was spooled before a restart.
  void start();
  // A message the shard just made durable.
  void spooled(const std::string& queue_id);
  // Quotas come from the directory in force when a delivery begins.
  void set_directory(std::shared_ptr<const directory::Directory> d) { directory_ = std::move(d); }

 private:
  struct Target {
    uint32_t recipient = 0;
    std::string account;
    bool done = false;
    bool over_quota = false;
  };
  struct InFlight {
    std::string queue_id;
    std::vector<Target> targets;
    std::vector<bool> has_remote;  // by recipient
    std::vector<bool> was_done;    // by recipient, when the attempt began
    unsigned batches = 0;          // owning cores yet to answer
    bool failed = false;
    uint64_t bytes = 0;
    int64_t received_at = 0;
  };
  // What an owning core answers, by account: appended (or found appended before), and
  // over quota.
  struct Answer {
    std::vector<std::string> delivered;
    std::vector<std::string> over_quota;
    bool failed = false;
  };

  void pump();
  void begin(const std::string& queue_id);
  void answered(const std::string& queue_id, Answer answer);
  void finish(InFlight& f);
  void retry_later(const std::string& queue_id);

  unsigned core_;
  engine::Reactor& reactor_;
  spool::SpoolShard& spool_;
  MailCores& cores_;
  DeliverSettings settings_;
  std::shared_ptr<const directory::Directory> directory_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_;      // in queue_, retry_ or in_flight_
  std::unordered_set<std::string> bounce_due_;  // over quota past over_quota_bounce_after
  std::vector<std::string> retry_;
  std::unordered_map<std::string, InFlight> in_flight_;
  uint64_t in_flight_bytes_ = 0;
  engine::Timer retry_timer_;
  bool retry_armed_ = false;
  // Answers from other cores hold this weakly: they do nothing once the delivery is gone.
  std::shared_ptr<Delivery*> self_;
};

}  // namespace postcore::server
