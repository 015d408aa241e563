// SmtpService: binds the sans-IO SMTP session to a transport connection and to this
// core's spool shard. One per core (shared-nothing); the ConnectionLimiter is the one
// object shared with other cores.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/profile.h"
#include "control/directory/directory.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/engine/reactor_link.h"
#include "dataplane/net/transport.h"
#include "dataplane/server/connection_limiter.h"
#include "dataplane/server/login_checker.h"
#include "dataplane/server/mail_cores.h"
#include "dataplane/smtp/session.h"
#include "queue/spool/spool_shard.h"

namespace postcore::server {

class SmtpConnection;

// The session configuration for `service`: submission offers AUTH and requires it before
// MAIL (RFC 6409); smtp (port 25) offers none.
smtp::Config smtp_config_from(const Profile& profile, Service service = Service::smtp);

struct SmtpServiceOptions {
  Service service = Service::smtp;
  // Checks AUTH passwords; null: AUTH is not offered.
  LoginChecker* logins = nullptr;
  // Told the queue id of every message the spool made durable, whether or not the client
  // is still there to hear its 250.
  std::function<void(const std::string& queue_id)> spooled;
  // Mailbox sizes, for the quota check at RCPT; null: no check.
  const MailCores* cores = nullptr;
};

class SmtpService final : public net::ServiceHandlerFactory {
 public:
  SmtpService(engine::Reactor& reactor, const Profile& profile, spool::SpoolShard& spool,
              ConnectionLimiter& limiter,
              std::shared_ptr<const directory::Directory> directory = nullptr,
              const SmtpServiceOptions& options = {});
  ~SmtpService() override;

  std::unique_ptr<net::ConnectionHandler> make_handler(net::Connection& connection) override;

  // Server stopping: idle sessions get 421 4.3.2 now; sessions inside a transaction
  // finish it first, or get 421 when the grace period ends.
  void begin_shutdown();
  bool quiescent() const { return open_.empty(); }

  // A new directory snapshot; transactions already past their first RCPT keep theirs.
  void set_directory(std::shared_ptr<const directory::Directory> d) { directory_ = std::move(d); }
  const std::shared_ptr<const directory::Directory>& directory() const { return directory_; }

 private:
  friend class SmtpConnection;
  bool is_local_domain(std::string_view domain) const;
  // Whether `account`'s mailbox is at or over its quota.
  bool mailbox_full(const directory::Directory& directory, const std::string& account) const;
  // The configuration for one client: AUTH is offered only where passwords may travel.
  smtp::Config config_for(std::string_view peer_address, std::string_view local_address) const;

  engine::Reactor& reactor_;
  smtp::Config config_;
  LoginChecker* logins_;
  PlaintextAuth plaintext_;
  // Password checks answer from worker threads through this; detached on destruction.
  std::shared_ptr<engine::ReactorLink> link_;
  std::vector<std::string> local_domains_;  // used until a directory snapshot exists
  std::shared_ptr<const directory::Directory> directory_;
  spool::SpoolShard& spool_;
  std::function<void(const std::string&)> spooled_;
  const MailCores* cores_;
  ConnectionLimiter& limiter_;
  std::chrono::seconds grace_;
  std::unordered_set<SmtpConnection*> open_;
  bool shutting_down_ = false;
  engine::Timer grace_timer_;
};

}  // namespace postcore::server
