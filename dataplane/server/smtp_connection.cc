#include "dataplane/server/smtp_connection.h"

#include <ctime>

#include "common/log.h"
#include "dataplane/server/smtp_service.h"

namespace postcore::server {

SmtpConnection::SmtpConnection(SmtpService& service, net::Connection& connection, bool admitted,
                               std::string refusal)
    : service_(service),
      connection_(connection),
      session_(service.config_for(connection.peer_address(), connection.local_address()), *this,
               connection.peer_address()),
      admitted_(admitted),
      refusal_(std::move(refusal)),
      idle_timer_([this] { on_timeout(); }),
      self_(std::make_shared<SmtpConnection*>(this)) {
  service_.open_.insert(this);
}

SmtpConnection::~SmtpConnection() {
  service_.open_.erase(this);
  if (admitted_) service_.limiter_.release(connection_.peer_address());
}

void SmtpConnection::on_open() {
  if (!admitted_) {
    connection_.send(refusal_);
    connection_.close();
    return;
  }
  session_.start(std::time(nullptr));
  after_session_step();
}

void SmtpConnection::on_data(std::string_view bytes) {
  if (closed_) return;
  session_.feed(bytes, std::time(nullptr));
  after_session_step();
}

void SmtpConnection::after_session_step() {
  std::string& out = session_.output();
  if (!out.empty()) {
    connection_.send(out);
    out.clear();
  }
  if (!session_.closing() && stop_after_transaction_ && !session_.in_transaction() &&
      !session_.awaiting_commit()) {
    session_.shutting_down();
    connection_.send(session_.output());
    session_.output().clear();
  }
  if (session_.closing()) {
    closed_ = true;
    service_.reactor_.timers().cancel(idle_timer_);
    connection_.close();
    return;
  }
  // Back-pressure: a client that pipelines far ahead of our answers waits in TCP.
  if (session_.pending_input() > kMaxPendingInput) {
    if (!reading_paused_) connection_.pause_reading();
    reading_paused_ = true;
  } else if (reading_paused_) {
    reading_paused_ = false;
    connection_.resume_reading();  // may feed held input, re-entering this function
    if (closed_) return;
  }
  // While a commit is pending the client is waiting on us, not the other way round.
  if (session_.awaiting_commit())
    service_.reactor_.timers().cancel(idle_timer_);
  else
    service_.reactor_.timers().arm(idle_timer_, session_.current_timeout());
}

void SmtpConnection::on_timeout() {
  if (closed_) return;
  log::info("smtp", "client {}: timeout", connection_.peer_address());
  session_.timed_out();
  after_session_step();
}

void SmtpConnection::on_closed() {
  closed_ = true;
  service_.reactor_.timers().cancel(idle_timer_);
  // The client vanished mid-message: what it sent was never acknowledged.
  if (message_) {
    service_.spool_.abort(*message_);
    message_.reset();
  }
}

void SmtpConnection::shut_down_now() {
  if (closed_) return;
  // A 421 before the pending 250 would make the client send the message again.
  if (session_.awaiting_commit()) {
    stop_after_transaction_ = true;
    return;
  }
  session_.shutting_down();
  after_session_step();
}

void SmtpConnection::shut_down_when_idle() {
  stop_after_transaction_ = true;
  if (!closed_) after_session_step();
}

void SmtpConnection::transaction_started() {
  txn_directory_ = service_.directory();
}

smtp::RcptVerdict SmtpConnection::check_recipient(std::string_view address,
                                                  std::vector<DeliveryTarget>& targets) {
  if (txn_directory_) {
    directory::Resolution r =
        txn_directory_->resolve(address, connection_.peer_address(), session_.authenticated());
    switch (r.verdict) {
      case directory::Verdict::accept:
        // One mailbox that is full already: the sender keeps the message and tries later
        // (a group or a list of copies is taken, and its full members wait in the spool).
        if (r.targets.size() == 1 && r.targets[0].kind == directory::TargetKind::local_account &&
            service_.mailbox_full(*txn_directory_, r.targets[0].address))
          return smtp::RcptVerdict::mailbox_full;
        targets.reserve(r.targets.size());
        for (directory::Target& t : r.targets) {
          targets.push_back({t.kind == directory::TargetKind::remote ? DeliveryTarget::remote
                                                                     : DeliveryTarget::local,
                             std::move(t.address), t.implicit});
        }
        return smtp::RcptVerdict::accept;
      case directory::Verdict::unknown_user:
        return smtp::RcptVerdict::unknown_user;
      case directory::Verdict::disabled:
        return smtp::RcptVerdict::disabled;
      case directory::Verdict::relay_denied:
        return smtp::RcptVerdict::relay_denied;
      case directory::Verdict::temporary_failure:
        log::warning("smtp", "client {}: RCPT {}: {}", connection_.peer_address(), address,
                     r.detail);
        return smtp::RcptVerdict::temporary_failure;
    }
  }
  // No directory snapshot yet: the profile's local domains, any name in them.
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return smtp::RcptVerdict::unknown_user;
  if (!service_.is_local_domain(address.substr(at + 1))) return smtp::RcptVerdict::relay_denied;
  return smtp::RcptVerdict::accept;
}

std::string SmtpConnection::message_begin(const Envelope& envelope) {
  auto handle = service_.spool_.begin(envelope);
  if (!handle) {
    log::error("spool", "cannot begin a message: {}", handle.error().message);
    return {};
  }
  message_ = *handle;
  return service_.spool_.queue_id(*handle);
}

void SmtpConnection::message_data(std::string_view chunk) {
  if (message_) service_.spool_.append(*message_, chunk);
}

void SmtpConnection::message_end() {
  if (!message_) return;
  spool::SpoolShard::Handle handle = *message_;
  message_.reset();
  std::string queue_id = service_.spool_.queue_id(handle);
  std::weak_ptr<SmtpConnection*> weak = self_;
  SmtpService* service = &service_;  // outlives every commit callback of its core's spool
  service_.spool_.commit(handle, [weak, service, queue_id](Result<void> r) {
    auto alive = weak.lock();
    if (!r) log::error("spool", "{}: not stored: {}", queue_id, r.error().message);
    if (r && service->spooled_) service->spooled_(queue_id);
    if (!alive) return;  // client gone: it never saw a 250, and may send the message again
    SmtpConnection* self = *alive;
    if (self->closed_) return;
    if (r)
      self->session_.commit_succeeded(queue_id);
    else
      self->session_.commit_failed();
    self->after_session_step();
  });
}

void SmtpConnection::message_abort() {
  if (!message_) return;
  service_.spool_.abort(*message_);
  message_.reset();
}

void SmtpConnection::authenticate(std::string_view authzid, std::string_view authcid,
                                  std::string_view password) {
  if (!service_.logins_) {  // not reached: AUTH is offered only with a checker
    session_.auth_answered(smtp::AuthResult::temporary_failure);
    return;
  }
  std::weak_ptr<SmtpConnection*> weak = self_;
  std::shared_ptr<engine::ReactorLink> link = service_.link_;
  std::string login = printable(authcid.substr(0, 256));  // for the log
  service_.logins_->check(
      service_.directory(), authzid, authcid, password, directory::service_smtp,
      connection_.peer_address(), [weak, link, login](LoginAnswer answer) {
        // On a worker thread: the answer goes back to the connection's own reactor.
        link->post([weak, login, answer = std::move(answer)] {
          auto alive = weak.lock();
          if (!alive) return;
          SmtpConnection* self = *alive;
          if (self->closed_) return;
          const std::string& peer = self->connection_.peer_address();
          switch (answer.outcome) {
            case LoginOutcome::success:
              log::info("smtp", "client {}: authenticated as {}", peer, answer.user);
              self->session_.auth_answered(smtp::AuthResult::success, answer.user);
              break;
            case LoginOutcome::invalid:
              log::warning("smtp", "client {}: authentication failed for {}", peer, login);
              self->session_.auth_answered(smtp::AuthResult::invalid);
              break;
            case LoginOutcome::temporary_failure:
              log::warning("smtp", "client {}: authentication for {} not checked (busy)", peer,
                           login);
              self->session_.auth_answered(smtp::AuthResult::temporary_failure);
              break;
            case LoginOutcome::refused:  // logged by the checker
              self->session_.auth_answered(smtp::AuthResult::temporary_failure);
              break;
          }
          self->after_session_step();
        });
      });
}

}  // namespace postcore::server
