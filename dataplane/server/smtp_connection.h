// SmtpConnection: one client connection: feeds received bytes to the SMTP session,
// sends its replies, stores messages in the spool shard and arms the idle timer.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "control/directory/directory.h"
#include "dataplane/engine/timer_wheel.h"
#include "dataplane/net/transport.h"
#include "dataplane/smtp/session.h"
#include "queue/spool/spool_shard.h"

namespace postcore::server {

class SmtpService;

class SmtpConnection final : public net::ConnectionHandler, public smtp::SessionHost {
 public:
  SmtpConnection(SmtpService& service, net::Connection& connection, bool admitted,
                 std::string refusal);
  ~SmtpConnection() override;

  // net::ConnectionHandler
  void on_open() override;
  void on_data(std::string_view bytes) override;
  void on_closed() override;

  // smtp::SessionHost
  void transaction_started() override;
  smtp::RcptVerdict check_recipient(std::string_view address,
                                    std::vector<DeliveryTarget>& targets) override;
  std::string message_begin(const Envelope& envelope) override;
  void message_data(std::string_view chunk) override;
  void message_end() override;
  void message_abort() override;
  void authenticate(std::string_view authzid, std::string_view authcid,
                    std::string_view password) override;

  void shut_down_now();        // 421 4.3.2 and close
  void shut_down_when_idle();  // 421 once the current transaction is over

 private:
  void after_session_step();  // send output, close if asked, re-arm the timer
  void on_timeout();

  SmtpService& service_;
  net::Connection& connection_;
  smtp::Session session_;
  bool admitted_;
  std::string refusal_;  // reply for a connection over the limits
  std::optional<spool::SpoolShard::Handle> message_;
  // The snapshot this transaction's recipients were resolved with: a new snapshot takes
  // effect between transactions, never inside one.
  std::shared_ptr<const directory::Directory> txn_directory_;
  engine::Timer idle_timer_;
  // Commit callbacks can outlive the connection: they hold a weak reference.
  std::shared_ptr<SmtpConnection*> self_;
  bool closed_ = false;
  bool stop_after_transaction_ = false;
  bool reading_paused_ = false;
  static constexpr size_t kMaxPendingInput = 64 << 10;
};

}  // namespace postcore::server
