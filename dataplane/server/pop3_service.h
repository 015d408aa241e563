// Pop3Service: binds the sans-IO POP3 session (dataplane/pop3) to a transport connection
// and to the mail store. One per core. The maildrop is the account's INBOX, on the core
// that owns the account (MailCores): the session's core asks that core to lock and list
// it, to read a message, and to expunge the deleted ones at QUIT, and gets the answers back
// the same way; nothing else crosses cores.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_set>

#include "common/profile.h"
#include "control/directory/directory.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/engine/reactor_link.h"
#include "dataplane/net/transport.h"
#include "dataplane/pop3/config.h"
#include "dataplane/server/connection_limiter.h"
#include "dataplane/server/login_checker.h"
#include "dataplane/server/mail_cores.h"

namespace postcore::server {

class Pop3Connection;

class Pop3Service final : public net::ServiceHandlerFactory {
 public:
  Pop3Service(engine::Reactor& reactor, unsigned core, const Profile& profile,
              ConnectionLimiter& limiter, MailCores& cores, LoginChecker* logins,
              std::shared_ptr<const directory::Directory> directory);
  ~Pop3Service() override;

  std::unique_ptr<net::ConnectionHandler> make_handler(net::Connection& connection) override;

  // Stopping: sessions get -ERR [SYS/TEMP] and are closed (nothing is deleted), at once
  // when idle, else when their pending answer arrives or the grace period ends.
  void begin_shutdown();
  bool quiescent() const { return open_.empty(); }
  void set_directory(std::shared_ptr<const directory::Directory> d) { directory_ = std::move(d); }

 private:
  friend class Pop3Connection;
  pop3::Config config_for(std::string_view peer_address) const;

  engine::Reactor& reactor_;
  unsigned core_;
  pop3::Config config_;
  PlaintextAuth plaintext_;
  ConnectionLimiter& limiter_;
  MailCores& cores_;
  LoginChecker* logins_;
  std::shared_ptr<engine::ReactorLink> link_;
  std::shared_ptr<const directory::Directory> directory_;
  std::chrono::seconds grace_;
  std::unordered_set<Pop3Connection*> open_;
  bool shutting_down_ = false;
  engine::Timer grace_timer_;
};

}  // namespace postcore::server
