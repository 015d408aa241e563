#include "dataplane/server/core.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/log.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/engine/uring_file_io.h"
#include "dataplane/net/kernel_transport.h"
#include "dataplane/server/delivery.h"
#include "dataplane/server/mail_cores.h"
#include "dataplane/server/pop3_service.h"
#include "dataplane/server/smtp_service.h"
#include "queue/mailstore/mail_shard.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/mirror_file_io.h"

namespace postcore::server {

// Declared in the order they are built; destroyed in reverse.
struct Core::State {
  engine::Reactor reactor;
  engine::UringFileIo file_io;
  volume::MirroredFileIo volume_io;  // every write to each healthy member, through file_io
  spool::SpoolShard spool;
  mailstore::MailShard mail;  // the mailboxes of the accounts this core owns
  Delivery delivery;          // this core's spooled mail into mailboxes, on whichever core
  net::KernelTransport transport;
  SmtpService smtp;
  SmtpService submission;
  Pop3Service pop3;

  State(unsigned index, int cpu, const Profile& p, ConnectionLimiter& limiter,
        std::shared_ptr<volume::VolumeSet> volumes, LoginChecker* logins,
        std::shared_ptr<const directory::Directory> directory, MailCores& cores,
        ConnectionLimiter& pop3_limiter)
      : reactor(engine::ReactorOptions{index, cpu, 4096}),
        file_io(reactor),
        volume_io(
            std::move(volumes), file_io,
            [this](std::function<void()> fn) { reactor.post(std::move(fn)); }, p.volumes.io_timeout,
            // From the volume keeper's thread: Reactor::post is for any thread.
            [this](std::function<void()> fn) { reactor.post(std::move(fn)); }),
        spool(volume_io, spool::ShardOptions{fmt::format("{}/spool/shard-{:03}", p.data_dir, index),
                                             static_cast<uint16_t>(index), p.spool.segment_size,
                                             static_cast<size_t>(p.spool.write_buffer)}),
        mail(volume_io,
             mailstore::MailShardOptions{mailstore::mail_root(p.data_dir),
                                         static_cast<uint16_t>(index), p.spool.segment_size,
                                         static_cast<size_t>(p.spool.write_buffer),
                                         [&cores](const std::string& account, uint64_t bytes) {
                                           cores.set_usage(account, bytes);
                                         }}),
        delivery(index, reactor, spool, cores, p.deliver, directory),
        transport(reactor),
        smtp(reactor, p, spool, limiter, directory,
             {Service::smtp, logins, [this](const std::string& id) { delivery.spooled(id); },
              &cores}),
        submission(reactor, p, spool, limiter, directory,
                   {Service::submission, logins,
                    [this](const std::string& id) { delivery.spooled(id); }, &cores}),
        pop3(reactor, index, p, pop3_limiter, cores, logins, std::move(directory)) {}

  net::ServiceHandlerFactory& service(Service s) {
    switch (s) {
      case Service::submission:
        return submission;
      case Service::pop3:
        return pop3;
      case Service::smtp:
        break;
    }
    return smtp;
  }

  // Shards left by a larger core count that this core keeps: recovered (an unsealed segment
  // is cut back to its records and sealed), never written to again but by their own
  // sealing and reclaiming.
  std::vector<std::unique_ptr<spool::SpoolShard>> inherited;
  std::vector<std::unique_ptr<Delivery>> inherited_delivery;
  Result<void> open_inherited(const Profile& p, unsigned index, unsigned count, MailCores& cores,
                              const std::shared_ptr<const directory::Directory>& directory) {
    const std::string root = p.data_dir + "/spool";
    auto names = volume_io.list_dir(root);
    if (!names) return names.error().code == ENOENT ? Result<void>() : names.error();
    std::sort(names->begin(), names->end());
    for (const std::string& name : *names) {
      std::optional<uint16_t> shard = spool::parse_shard_dir_name(name);
      if (!shard || *shard < count || *shard % count != index) continue;
      auto kept = std::make_unique<spool::SpoolShard>(
          volume_io, spool::ShardOptions{root + "/" + name, *shard, p.spool.segment_size,
                                         static_cast<size_t>(p.spool.write_buffer)});
      auto recovered = kept->open();
      if (!recovered) return recovered.error();
      log::info("server", "core {} keeps spool shard {} (left by a larger core count): {} messages",
                index, *shard, recovered->messages);
      inherited_delivery.push_back(
          std::make_unique<Delivery>(index, reactor, *kept, cores, p.deliver, directory));
      inherited.push_back(std::move(kept));
    }
    return {};
  }
  void start_delivery() {
    delivery.start();
    for (auto& d : inherited_delivery) d->start();
  }
  void flush_spool() {
    spool.flush();
    for (auto& shard : inherited) shard->flush();
    mail.flush();
  }
  bool spool_idle() const {
    for (const auto& shard : inherited)
      if (!shard->idle()) return false;
    return spool.idle() && mail.idle();
  }

  // Listeners configured for "aliases" follow the directory's service addresses: one per
  // address that names the listener's service (or no service, meaning all of them).
  std::map<std::pair<size_t, std::string>, net::ListenerId> alias_listeners;
  void follow_aliases(const Profile& p, const directory::Directory* d) {
    std::set<std::pair<size_t, std::string>> wanted;
    for (size_t i = 0; i < p.listeners.size(); i++) {
      const ListenerConfig& l = p.listeners[i];
      if (!l.on_aliases || !d) continue;
      const std::string_view name = service_name(l.service);
      for (const auto& a : d->service_addresses()) {
        if (a.services.empty() ||
            std::find(a.services.begin(), a.services.end(), name) != a.services.end())
          wanted.insert({i, a.address});
      }
    }
    for (auto it = alias_listeners.begin(); it != alias_listeners.end();) {
      if (wanted.count(it->first)) {
        ++it;
        continue;
      }
      transport.stop_listener(it->second);
      log::info("server", "{} listener on {} closed",
                service_name(p.listeners[it->first.first].service), it->first.second);
      it = alias_listeners.erase(it);
    }
    for (const auto& key : wanted) {
      if (alias_listeners.count(key)) continue;
      const ListenerConfig& l = p.listeners[key.first];
      auto id = transport.listen({key.second, l.bound_port}, service(l.service));
      if (!id) {
        log::warning("server", "{} listener on alias {}: {}", service_name(l.service), key.second,
                     id.error().message);
        continue;
      }
      alias_listeners[key] = *id;
      if (reactor.core_index() == 0)
        log::info("server", "{} listening on alias {} port {}", service_name(l.service), key.second,
                  l.bound_port);
    }
  }

  // Every few seconds: spool segments whose messages are all delivered, and stored octets
  // no mailbox holds, give their disk space back.
  engine::Timer reclaim_tick{[this] {
    reclaim(spool, "spool");
    for (auto& shard : inherited) reclaim(*shard, "spool");
    auto mail_segments = mail.reclaim();
    if (!mail_segments)
      log::warning("mailstore", "reclaiming stored octets: {}", mail_segments.error().message);
    reactor.timers().arm(reclaim_tick, std::chrono::seconds(5));
  }};
  void reclaim(spool::SpoolShard& shard, const char* what) {
    auto segments = shard.reclaim();
    if (!segments) {
      log::warning("server", "reclaiming {} segments: {}", what, segments.error().message);
    } else if (*segments > 0) {
      log::info("server", "{}: {} segments of delivered mail reclaimed", shard.options().dir,
                *segments);
    }
  }

  // Every second: members that stopped answering are found (MirroredFileIo::tick).
  engine::Timer volume_tick{[this] {
    volume_io.tick(std::chrono::steady_clock::now());
    reactor.timers().arm(volume_tick, std::chrono::seconds(1));
  }};
};

Core::Core(unsigned index, unsigned count, int cpu, const Profile& profile,
           ConnectionLimiter& limiter, std::shared_ptr<volume::VolumeSet> volumes,
           LoginChecker* logins, std::shared_ptr<const directory::Directory> directory,
           MailCores& cores, ConnectionLimiter& pop3_limiter)
    : index_(index),
      count_(count),
      cpu_(cpu),
      profile_(profile),
      limiter_(limiter),
      volumes_(std::move(volumes)),
      logins_(logins),
      initial_directory_(std::move(directory)),
      cores_(cores),
      pop3_limiter_(pop3_limiter) {}

Core::~Core() {
  join();
}

std::future<Result<void>> Core::start() {
  std::promise<Result<void>> started;
  auto future = started.get_future();
  thread_ = std::thread([this, p = std::move(started)]() mutable { run(std::move(p)); });
  return future;
}

void Core::run(std::promise<Result<void>> started) {
  auto state = std::make_unique<State>(index_, cpu_, profile_, limiter_, volumes_, logins_,
                                       initial_directory_, cores_, pop3_limiter_);
  auto fail = [&](const std::string& what, const Error& e) {
    started.set_value(make_error(e.code, fmt::format("core {}: {}: {}", index_, what, e.message)));
  };
  if (auto r = state->reactor.init(); !r) return fail("engine", r.error());
  auto recovered = state->spool.open();
  if (!recovered) return fail("spool recovery", recovered.error());
  // The shard logs what recovery found, corruption loudly.
  if (auto r = state->open_inherited(profile_, index_, count_, cores_, initial_directory_); !r)
    return fail("spool recovery", r.error());
  if (index_ == 0) {
    if (auto r = check_mail_layout(state->volume_io, profile_.data_dir, count_); !r)
      return fail("mail store", r.error());
  }
  auto mail = state->mail.open();
  if (!mail) return fail("mail store recovery", mail.error());
  log::info("server",
            "core {} mail store: {} accounts, {} messages, {} stored octets; {} log entries "
            "replayed, {} skipped (never answered), {} octets released",
            index_, mail->accounts, mail->messages, mail->blobs, mail->changes,
            mail->changes_skipped, mail->blobs_released);
  for (const std::string& problem : mail->problems) log::warning("mailstore", "{}", problem);
  if (auto r = state->transport.init(); !r) return fail("transport", r.error());
  for (const auto& l : profile_.listeners) {
    if (l.on_aliases) continue;
    if (auto r = state->transport.listen({l.address, l.bound_port}, state->service(l.service)); !r)
      return fail(std::string(service_name(l.service)) + " listener", r.error());
  }
  state->follow_aliases(profile_, initial_directory_.get());
  State* s = state.get();
  // Group commit: everything that completed in this iteration shares one fdatasync.
  // A member that stops answering must not block the reactor when others can go on.
  s->file_io.set_async_writes(volumes_->member_count() > 1);
  s->reactor.timers().arm(s->volume_tick, std::chrono::seconds(1));
  s->reactor.timers().arm(s->reclaim_tick, std::chrono::seconds(5));
  s->reactor.add_iteration_hook([s] { s->flush_spool(); });
  s->reactor.on_stop([s] {
    s->transport.stop_listening();
    s->smtp.begin_shutdown();
    s->submission.begin_shutdown();
    s->pop3.begin_shutdown();
  });
  bool sealed = false;
  s->reactor.add_quiescence_check([s, sealed]() mutable {
    if (!s->smtp.quiescent() || !s->submission.quiescent() || !s->pop3.quiescent() ||
        s->transport.connection_count() != 0)
      return false;
    // Sealing writes the segment's index, so the next start reads no segment in full.
    if (!sealed) {
      sealed = true;
      s->spool.seal_active();
      return false;
    }
    return s->spool_idle() && s->file_io.in_flight() == 0 && s->volume_io.waiting_on_keeper() == 0;
  });
  cores_.attach(index_, &s->reactor, &s->mail);
  state_.store(s, std::memory_order_release);
  started.set_value(Result<void>());
  if (stop_requested_.load(std::memory_order_acquire)) s->reactor.stop();
  s->reactor.run();
  cores_.detach(index_);
  state_.store(nullptr, std::memory_order_release);
}

void Core::stop() {
  stop_requested_.store(true, std::memory_order_release);
  if (State* s = state_.load(std::memory_order_acquire)) s->reactor.stop();
}

void Core::set_directory(std::shared_ptr<const directory::Directory> directory) {
  if (State* s = state_.load(std::memory_order_acquire))
    s->reactor.post([this, s, d = std::move(directory)]() mutable {
      s->follow_aliases(profile_, d.get());
      s->smtp.set_directory(d);
      s->pop3.set_directory(d);
      s->delivery.set_directory(d);
      for (auto& other : s->inherited_delivery) other->set_directory(d);
      s->submission.set_directory(std::move(d));
    });
}

void Core::start_delivery() {
  if (State* s = state_.load(std::memory_order_acquire))
    s->reactor.post([s] { s->start_delivery(); });
}

void Core::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace postcore::server
