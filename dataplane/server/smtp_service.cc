#include "dataplane/server/smtp_service.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "dataplane/server/smtp_connection.h"

namespace postcore::server {

smtp::Config smtp_config_from(const Profile& profile, Service service) {
  smtp::Config c;
  c.hostname = profile.hostname;
  const SmtpSettings& s = profile.smtp;
  c.limits.max_command_line = s.max_command_line;
  c.limits.max_text_line = s.max_text_line;
  c.limits.max_message_size = s.max_message_size;
  c.limits.max_recipients = s.max_recipients;
  c.limits.max_expanded_recipients = s.max_expanded_recipients;
  c.limits.max_errors = s.max_errors;
  c.limits.command_timeout = s.command_timeout;
  c.limits.data_timeout = s.data_timeout;
  c.bare_line_ending = s.normalise_bare_line_endings ? smtp::BareLineEnding::normalise
                                                     : smtp::BareLineEnding::reject;
  c.auth.offered = c.auth.required = service == Service::submission;
  return c;
}

SmtpService::SmtpService(engine::Reactor& reactor, const Profile& profile, spool::SpoolShard& spool,
                         ConnectionLimiter& limiter,
                         std::shared_ptr<const directory::Directory> directory,
                         const SmtpServiceOptions& options)
    : reactor_(reactor),
      config_(smtp_config_from(profile, options.service)),
      logins_(options.logins),
      plaintext_(profile.auth.plaintext),
      link_(std::make_shared<engine::ReactorLink>(reactor)),
      local_domains_(profile.smtp.local_domains),
      directory_(std::move(directory)),
      spool_(spool),
      spooled_(options.spooled),
      cores_(options.cores),
      limiter_(limiter),
      grace_(profile.shutdown_grace),
      grace_timer_([this] {
        std::vector<SmtpConnection*> open(open_.begin(), open_.end());
        for (SmtpConnection* c : open) c->shut_down_now();
      }) {}

SmtpService::~SmtpService() {
  link_->detach();
}

smtp::Config SmtpService::config_for(std::string_view peer_address,
                                     std::string_view local_address) const {
  smtp::Config c = config_;
  // An IP alias bound to a domain answers as that domain: greeting, EHLO and Received.
  if (directory_) {
    std::string_view domain = directory_->domain_of_local_address(local_address);
    if (!domain.empty()) c.hostname = domain;
  }
  // No TLS yet: every connection is plaintext.
  c.auth.offered =
      c.auth.offered && logins_ != nullptr && plaintext_allowed(plaintext_, peer_address);
  return c;
}

bool SmtpService::is_local_domain(std::string_view domain) const {
  return std::any_of(local_domains_.begin(), local_domains_.end(), [&](const std::string& d) {
    return d.size() == domain.size() &&
           std::equal(d.begin(), d.end(), domain.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

bool SmtpService::mailbox_full(const directory::Directory& directory,
                               const std::string& account) const {
  if (!cores_) return false;
  auto found = directory.find_login(account);
  return found && found->quota_kb > 0 && found->quota_kb <= UINT64_MAX / 1024 &&
         cores_->usage(account) >= found->quota_kb * 1024;
}

std::unique_ptr<net::ConnectionHandler> SmtpService::make_handler(net::Connection& connection) {
  if (shutting_down_)
    return std::make_unique<SmtpConnection>(
        *this, connection, false, "421 4.3.2 " + config_.hostname + " Service shutting down\r\n");
  switch (limiter_.acquire(connection.peer_address())) {
    case ConnectionLimiter::Verdict::admitted:
      return std::make_unique<SmtpConnection>(*this, connection, true, std::string());
    case ConnectionLimiter::Verdict::too_many_total:
      log::warning("smtp", "client {}: refused, too many connections", connection.peer_address());
      return std::make_unique<SmtpConnection>(
          *this, connection, false, "421 4.7.0 " + config_.hostname + " Too many connections\r\n");
    case ConnectionLimiter::Verdict::too_many_from_client:
      log::warning("smtp", "client {}: refused, too many connections from this address",
                   connection.peer_address());
      return std::make_unique<SmtpConnection>(
          *this, connection, false,
          "421 4.7.0 " + config_.hostname + " Too many connections from your address\r\n");
  }
  return nullptr;
}

void SmtpService::begin_shutdown() {
  shutting_down_ = true;
  std::vector<SmtpConnection*> open(open_.begin(), open_.end());
  for (SmtpConnection* c : open) c->shut_down_when_idle();
  reactor_.timers().arm(grace_timer_, grace_);
}

}  // namespace postcore::server
