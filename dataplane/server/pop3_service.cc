#include "dataplane/server/pop3_service.h"

#include <ctime>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "dataplane/engine/timer_wheel.h"
#include "dataplane/pop3/session.h"
#include "queue/mailstore/mail_shard.h"

namespace postcore::server {
namespace {

// The maildrop as listed at login: the INBOX's visible messages then.
struct Maildrop {
  std::string account;
  uint32_t folder = 0;
  std::vector<mailstore::Message> messages;  // in listing order (ascending UIDs)
  std::vector<pop3::MessageEntry> listing;   // handed to the session
};

}  // namespace

class Pop3Connection final : public net::ConnectionHandler, public pop3::SessionHost {
 public:
  Pop3Connection(Pop3Service& service, net::Connection& connection, bool admitted,
                 std::string refusal)
      : service_(service),
        connection_(connection),
        session_(service.config_for(connection.peer_address()), *this),
        admitted_(admitted),
        refusal_(std::move(refusal)),
        idle_timer_([this] { on_timeout(); }),
        self_(std::make_shared<Pop3Connection*>(this)) {
    service_.open_.insert(this);
  }

  ~Pop3Connection() override {
    release_maildrop();
    service_.open_.erase(this);
    if (admitted_) service_.limiter_.release(connection_.peer_address());
  }

  void on_open() override {
    if (!admitted_) {
      connection_.send(refusal_);
      connection_.close();
      return;
    }
    session_.start();
    after_step();
  }

  void on_data(std::string_view bytes) override {
    if (closed_) return;
    session_.feed(bytes);
    after_step();
  }

  void on_closed() override {
    closed_ = true;
    service_.reactor_.timers().cancel(idle_timer_);
  }

  // `now`: also while an answer is pending (the grace period is over).
  void shut_down(bool now) {
    stopping_ = true;
    if (!closed_ && (now || !session_.awaiting_host())) {
      session_.shutting_down();
      after_step();
    }
  }

  // pop3::SessionHost
  void authenticate(std::string_view user, std::string_view password) override {
    if (!service_.logins_) return session_.login_answered(pop3::LoginResult::temporary_failure);
    std::weak_ptr<Pop3Connection*> weak = self_;
    std::shared_ptr<engine::ReactorLink> link = service_.link_;
    std::string login = printable(user.substr(0, 256));  // for the log
    service_.logins_->check(service_.directory_, "", user, password, directory::service_pop,
                            connection_.peer_address(), [weak, link, login](LoginAnswer answer) {
                              link->post([weak, login, answer = std::move(answer)] {
                                auto alive = weak.lock();
                                if (!alive || (*alive)->closed_) return;
                                (*alive)->login_answered(login, answer);
                              });
                            });
  }

  void authenticate_apop(std::string_view, std::string_view, std::string_view) override {
    // Not offered: APOP needs the password in the clear, and only hashes are stored.
    session_.login_answered(pop3::LoginResult::invalid);
  }

  void open_maildrop(std::string_view) override {
    const std::string account = account_;
    call_owner(
        [account](mailstore::MailShard& mail) {
          auto drop = std::make_shared<Maildrop>();
          drop->account = account;
          if (mail.failed()) return std::make_pair(pop3::MaildropResult::temporary_failure, drop);
          if (!mail.lock_maildrop(account))
            return std::make_pair(pop3::MaildropResult::in_use, drop);
          const mailstore::AccountState* state = mail.account(account);
          const mailstore::Folder* inbox = state ? state->folder_named("INBOX") : nullptr;
          if (inbox) {
            drop->folder = inbox->id();
            for (const mailstore::Message& m : inbox->messages()) {
              if (!mail.visible(account, inbox->id(), m.uid)) continue;
              drop->messages.push_back(m);
              drop->listing.push_back({m.size, inbox->uidl(m)});
            }
          }
          return std::make_pair(pop3::MaildropResult::opened, drop);
        },
        [](Pop3Connection& self, std::pair<pop3::MaildropResult, std::shared_ptr<Maildrop>> r) {
          self.maildrop_answered(r.first, std::move(r.second));
        },
        // The client left while the lock was being taken: let it go again.
        [cores = &service_.cores_, owner = owner(),
         account](std::pair<pop3::MaildropResult, std::shared_ptr<Maildrop>> r) {
          if (r.first != pop3::MaildropResult::opened) return;
          cores->run_on(owner,
                        [account](mailstore::MailShard& mail) { mail.unlock_maildrop(account); });
        });
  }

  void retrieve(size_t index) override {
    if (!maildrop_ || index >= maildrop_->messages.size()) return session_.message_end(false);
    const uint64_t blob = maildrop_->messages[index].blob;
    call_owner(
        [blob](mailstore::MailShard& mail) {
          auto octets = std::make_shared<std::string>();
          auto read = mail.read(blob, [&](std::string_view piece) -> Result<void> {
            octets->append(piece);
            return {};
          });
          if (!read) {
            log::error("pop3", "stored message {:016X}: {}", blob, read.error().message);
            octets.reset();
          }
          return octets;
        },
        [](Pop3Connection& self, std::shared_ptr<std::string> octets) {
          if (octets) self.session_.message_data(*octets);
          self.session_.message_end(octets != nullptr);
          self.after_step();
        },
        [](std::shared_ptr<std::string>) {});
  }

  void commit_deletes(const std::vector<size_t>& indices) override {
    if (!maildrop_ || indices.empty()) return session_.deletes_committed(maildrop_ != nullptr);
    std::vector<uint32_t> uids;
    for (size_t i : indices) uids.push_back(maildrop_->messages.at(i).uid);
    const std::string account = maildrop_->account;
    const uint32_t folder = maildrop_->folder;
    std::weak_ptr<Pop3Connection*> weak = self_;
    MailCores* cores = &service_.cores_;
    const unsigned home = service_.core_;
    const bool sent = cores->run_on(
        owner(), [weak, cores, home, account, folder, uids](mailstore::MailShard& mail) {
          auto answer = [weak, cores, home](bool ok) {
            cores->run_on(home, [weak, ok](mailstore::MailShard&) {
              if (auto alive = weak.lock(); alive && !(*alive)->closed_) {
                (*alive)->session_.deletes_committed(ok);
                (*alive)->after_step();
              }
            });
          };
          // Messages another session expunged meanwhile are gone already.
          const mailstore::AccountState* state = mail.account(account);
          const mailstore::Folder* f = state ? state->folder(folder) : nullptr;
          mailstore::Expunged expunged;
          expunged.folder = folder;
          if (f) {
            expunged.modseq = f->highest_modseq() + 1;
            for (uint32_t uid : uids) {
              if (f->index_of(uid)) expunged.uids.push_back(uid);
            }
          }
          if (expunged.uids.empty()) return answer(true);
          mail.change(account, std::move(expunged), [answer, account](Result<void> r) {
            if (!r) log::error("pop3", "{}: deleting at QUIT: {}", account, r.error().message);
            answer(r.ok());
          });
        });
    if (!sent) session_.deletes_committed(false);
  }

 private:
  unsigned owner() const { return service_.cores_.owner(account_); }

  // Runs `work` on the core that owns the account and `then` with its result back here,
  // or `abandon` with it when the connection is gone by then.
  template <typename Work, typename Then, typename Abandon>
  void call_owner(Work work, Then then, Abandon abandon) {
    std::weak_ptr<Pop3Connection*> weak = self_;
    MailCores* cores = &service_.cores_;
    const unsigned home = service_.core_;
    const bool sent =
        cores->run_on(owner(), [weak, cores, home, work = std::move(work), then = std::move(then),
                                abandon = std::move(abandon)](mailstore::MailShard& mail) {
          auto result = work(mail);
          cores->run_on(home, [weak, then, abandon,
                               result = std::move(result)](mailstore::MailShard&) mutable {
            auto alive = weak.lock();
            if (!alive || (*alive)->closed_) return abandon(std::move(result));
            then(**alive, std::move(result));
          });
        });
    if (!sent) {
      // The owning core is stopping.
      service_.reactor_.post([weak] {
        if (auto alive = weak.lock(); alive && !(*alive)->closed_) {
          (*alive)->session_.shutting_down();
          (*alive)->after_step();
        }
      });
    }
  }

  void login_answered(const std::string& login, const LoginAnswer& answer) {
    const std::string& peer = connection_.peer_address();
    switch (answer.outcome) {
      case LoginOutcome::success:
        log::info("pop3", "client {}: logged in as {}", peer, answer.user);
        account_ = answer.user;
        session_.login_answered(pop3::LoginResult::success);
        break;
      case LoginOutcome::invalid:
        log::warning("pop3", "client {}: login failed for {}", peer, login);
        session_.login_answered(pop3::LoginResult::invalid);
        break;
      case LoginOutcome::temporary_failure:
      case LoginOutcome::refused:
        session_.login_answered(pop3::LoginResult::temporary_failure);
        break;
    }
    after_step();
  }

  void maildrop_answered(pop3::MaildropResult result, std::shared_ptr<Maildrop> drop) {
    if (result == pop3::MaildropResult::opened) {
      maildrop_ = std::move(drop);
      locked_ = true;
      session_.maildrop_opened(result, std::move(maildrop_->listing));
    } else {
      session_.maildrop_opened(result);
    }
    after_step();
  }

  void release_maildrop() {
    if (!locked_) return;
    locked_ = false;
    const std::string account = account_;
    service_.cores_.run_on(
        owner(), [account](mailstore::MailShard& mail) { mail.unlock_maildrop(account); });
  }

  void after_step() {
    std::string& out = session_.output();
    if (!out.empty()) {
      connection_.send(out);
      out.clear();
    }
    if (stopping_ && !session_.closing() && !session_.awaiting_host()) {
      session_.shutting_down();
      connection_.send(session_.output());
      session_.output().clear();
    }
    if (session_.closing()) {
      closed_ = true;
      service_.reactor_.timers().cancel(idle_timer_);
      release_maildrop();
      connection_.close();
      return;
    }
    if (session_.pending_input() > kMaxPendingInput) {
      if (!reading_paused_) connection_.pause_reading();
      reading_paused_ = true;
    } else if (reading_paused_) {
      reading_paused_ = false;
      connection_.resume_reading();
      if (closed_) return;
    }
    if (session_.awaiting_host())
      service_.reactor_.timers().cancel(idle_timer_);
    else
      service_.reactor_.timers().arm(idle_timer_, session_.current_timeout());
  }

  void on_timeout() {
    if (closed_) return;
    log::info("pop3", "client {}: timeout", connection_.peer_address());
    session_.timed_out();
    after_step();
  }

  Pop3Service& service_;
  net::Connection& connection_;
  pop3::Session session_;
  bool admitted_;
  std::string refusal_;
  engine::Timer idle_timer_;
  std::string account_;  // after a successful login
  std::shared_ptr<Maildrop> maildrop_;
  bool locked_ = false;  // this session holds the account's maildrop lock
  bool closed_ = false;
  bool stopping_ = false;
  bool reading_paused_ = false;
  // Answers from other threads and cores hold this weakly.
  std::shared_ptr<Pop3Connection*> self_;
  static constexpr size_t kMaxPendingInput = 64 << 10;
};

Pop3Service::Pop3Service(engine::Reactor& reactor, unsigned core, const Profile& profile,
                         ConnectionLimiter& limiter, MailCores& cores, LoginChecker* logins,
                         std::shared_ptr<const directory::Directory> directory)
    : reactor_(reactor),
      core_(core),
      plaintext_(profile.auth.plaintext),
      limiter_(limiter),
      cores_(cores),
      logins_(logins),
      link_(std::make_shared<engine::ReactorLink>(reactor)),
      directory_(std::move(directory)),
      grace_(profile.shutdown_grace),
      grace_timer_([this] {
        std::vector<Pop3Connection*> open(open_.begin(), open_.end());
        for (Pop3Connection* c : open) c->shut_down(true);
      }) {
  config_.hostname = profile.hostname;
  config_.limits.max_command_line = profile.pop3.max_command_line;
  config_.limits.max_errors = profile.pop3.max_errors;
  config_.limits.idle_timeout = profile.pop3.idle_timeout;
}

Pop3Service::~Pop3Service() {
  link_->detach();
}

pop3::Config Pop3Service::config_for(std::string_view peer_address) const {
  pop3::Config c = config_;
  // No TLS yet: every connection is plaintext.
  c.plaintext_logins = logins_ != nullptr && plaintext_allowed(plaintext_, peer_address);
  return c;
}

std::unique_ptr<net::ConnectionHandler> Pop3Service::make_handler(net::Connection& connection) {
  if (shutting_down_)
    return std::make_unique<Pop3Connection>(*this, connection, false,
                                            "-ERR [SYS/TEMP] Service shutting down\r\n");
  switch (limiter_.acquire(connection.peer_address())) {
    case ConnectionLimiter::Verdict::admitted:
      return std::make_unique<Pop3Connection>(*this, connection, true, std::string());
    case ConnectionLimiter::Verdict::too_many_total:
      log::warning("pop3", "client {}: refused, too many connections", connection.peer_address());
      return std::make_unique<Pop3Connection>(*this, connection, false,
                                              "-ERR [SYS/TEMP] Too many connections\r\n");
    case ConnectionLimiter::Verdict::too_many_from_client:
      log::warning("pop3", "client {}: refused, too many connections from this address",
                   connection.peer_address());
      return std::make_unique<Pop3Connection>(
          *this, connection, false, "-ERR [SYS/TEMP] Too many connections from your address\r\n");
  }
  return nullptr;
}

void Pop3Service::begin_shutdown() {
  shutting_down_ = true;
  std::vector<Pop3Connection*> open(open_.begin(), open_.end());
  for (Pop3Connection* c : open) c->shut_down(false);
  reactor_.timers().arm(grace_timer_, grace_);
}

}  // namespace postcore::server
