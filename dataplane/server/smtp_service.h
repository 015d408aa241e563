// SmtpService: binds the sans-IO SMTP session to a transport connection and to this
// core's spool shard. One per core (shared-nothing); the ConnectionLimiter is the one
// object shared with other cores.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/profile.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/net/transport.h"
#include "dataplane/server/connection_limiter.h"
#include "dataplane/smtp/session.h"
#include "queue/spool/spool_shard.h"

namespace postcore::server {

class SmtpConnection;

smtp::Config smtp_config_from(const Profile& profile);

class SmtpService final : public net::ServiceHandlerFactory {
 public:
  SmtpService(engine::Reactor& reactor, const Profile& profile, spool::SpoolShard& spool,
              ConnectionLimiter& limiter);
  ~SmtpService() override;

  std::unique_ptr<net::ConnectionHandler> make_handler(net::Connection& connection) override;

  // Server stopping: idle sessions get 421 4.3.2 now; sessions inside a transaction
  // finish it first, or get 421 when the grace period ends.
  void begin_shutdown();
  bool quiescent() const { return open_.empty(); }

 private:
  friend class SmtpConnection;
  bool is_local_domain(std::string_view domain) const;

  engine::Reactor& reactor_;
  smtp::Config config_;
  std::vector<std::string> local_domains_;
  spool::SpoolShard& spool_;
  ConnectionLimiter& limiter_;
  std::chrono::seconds grace_;
  std::unordered_set<SmtpConnection*> open_;
  bool shutting_down_ = false;
  engine::Timer grace_timer_;
};

}  // namespace postcore::server
