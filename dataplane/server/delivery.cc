#include "dataplane/server/delivery.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "common/log.h"

namespace postcore::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return out;
}

}  // namespace

Delivery::Delivery(unsigned core, engine::Reactor& reactor, spool::SpoolShard& spool,
                   MailCores& cores, const DeliverSettings& settings,
                   std::shared_ptr<const directory::Directory> directory)
    : core_(core),
      reactor_(reactor),
      spool_(spool),
      cores_(cores),
      settings_(settings),
      directory_(std::move(directory)),
      retry_timer_([this] {
        retry_armed_ = false;
        for (std::string& id : retry_) queue_.push_back(std::move(id));
        retry_.clear();
        pump();
      }),
      self_(std::make_shared<Delivery*>(this)) {}

Delivery::~Delivery() {
  self_.reset();
}

void Delivery::start() {
  if (settings_.hold) {
    log::info("deliver", "local delivery is on hold: {} messages wait in the spool",
              spool_.live_messages());
    return;
  }
  spool_.for_each_message([&](const spool::MessageInfo& m) {
    if (queued_.insert(m.queue_id).second) queue_.push_back(m.queue_id);
  });
  pump();
}

void Delivery::spooled(const std::string& queue_id) {
  if (settings_.hold) return;
  if (queued_.insert(queue_id).second) queue_.push_back(queue_id);
  pump();
}

void Delivery::pump() {
  while (!queue_.empty() && in_flight_.size() < settings_.max_in_flight) {
    auto info = spool_.find(queue_.front());
    if (info && !in_flight_.empty() &&
        in_flight_bytes_ + info->size > settings_.max_in_flight_bytes)
      return;  // one large message at a time once memory is short
    std::string id = std::move(queue_.front());
    queue_.pop_front();
    if (!info) {
      queued_.erase(id);  // reclaimed or done meanwhile
      continue;
    }
    begin(id);
  }
}

void Delivery::begin(const std::string& queue_id) {
  auto info = spool_.find(queue_id);
  auto envelope = spool_.read_envelope(queue_id);
  if (!info || !envelope) {
    log::error("deliver", "{}: cannot read the envelope: {}", queue_id,
               (!info ? info.error() : envelope.error()).message);
    retry_later(queue_id);
    return;
  }
  InFlight f;
  f.queue_id = queue_id;
  const size_t n = envelope->recipients.size();
  f.has_remote.assign(n, false);
  f.was_done.assign(n, false);
  for (uint32_t i = 0; i < n; i++) {
    f.was_done[i] = info->done.test(i);
    if (f.was_done[i]) continue;
    const Recipient& r = envelope->recipients[i];
    if (r.targets.empty()) {
      // Accepted for a profile's local domain, without a directory: the address itself.
      f.targets.push_back(Target{i, lower(r.address)});
      continue;
    }
    for (uint32_t t = 0; t < r.targets.size(); t++) {
      if (r.targets[t].kind == DeliveryTarget::remote) {
        f.has_remote[i] = true;
        continue;
      }
      f.targets.push_back(Target{i, r.targets[t].address});
    }
  }
  if (f.targets.empty()) {
    queued_.erase(queue_id);  // only outside targets: they wait for relaying
    return;
  }

  // RFC 5321 4.4: the final delivery records the reverse path.
  auto content = std::make_shared<std::string>();
  content->reserve(info->size + envelope->mail_from.size() + 16);
  *content += "Return-Path: <" + envelope->mail_from + ">\r\n";
  auto read = spool_.read_content(queue_id, [&](std::string_view piece) -> Result<void> {
    content->append(piece);
    return {};
  });
  if (!read) {
    log::error("deliver", "{}: cannot read the message: {}", queue_id, read.error().message);
    retry_later(queue_id);
    return;
  }

  // One append per account and owning core, however many targets name the account; each
  // with the account's quota in octets (0: none).
  struct Batch {
    std::vector<mailstore::AppendTarget> targets;
    std::vector<uint64_t> quotas;
  };
  std::map<unsigned, Batch> by_core;
  std::unordered_set<std::string> accounts;
  for (const Target& t : f.targets) {
    if (!accounts.insert(t.account).second) continue;
    mailstore::AppendTarget a;
    a.account = t.account;
    a.delivery = queue_id;
    std::optional<directory::LoginAccount> found;
    if (directory_) found = directory_->find_login(t.account);
    Batch& batch = by_core[cores_.owner(t.account)];
    batch.targets.push_back(std::move(a));
    // A quota too large to count in octets is no limit.
    const uint64_t kb = found ? found->quota_kb : 0;
    batch.quotas.push_back(kb > UINT64_MAX / 1024 ? 0 : kb * 1024);
  }
  f.batches = static_cast<unsigned>(by_core.size());
  f.bytes = content->size();
  in_flight_bytes_ += f.bytes;
  const int64_t received = envelope->received_at;
  f.received_at = received;
  in_flight_.emplace(queue_id, std::move(f));

  for (auto& [owner, batch] : by_core) {
    std::weak_ptr<Delivery*> weak = self_;
    MailCores* cores = &cores_;
    const unsigned home = core_;
    auto task = [weak, cores, home, queue_id, content, received,
                 batch = std::move(batch)](mailstore::MailShard& mail) mutable {
      auto reply = [weak, cores, home, queue_id](Answer answer) {
        cores->run_on(home,
                      [weak, queue_id, answer = std::move(answer)](mailstore::MailShard&) mutable {
                        if (auto self = weak.lock()) (*self)->answered(queue_id, std::move(answer));
                      });
      };
      Answer answer;
      if (mail.failed()) {
        // Its memory may hold appends that never reached the disk: it cannot say what
        // was delivered.
        answer.failed = true;
        return reply(std::move(answer));
      }
      std::vector<mailstore::AppendTarget> todo;
      for (size_t i = 0; i < batch.targets.size(); i++) {
        mailstore::AppendTarget& t = batch.targets[i];
        const mailstore::AccountState* a = mail.account(t.account);
        const uint64_t used = a ? a->total_size() : 0;
        if (a && a->delivered(t.delivery)) {
          answer.delivered.push_back(std::move(t.account));
        } else if (batch.quotas[i] > 0 && used + content->size() > batch.quotas[i]) {
          answer.over_quota.push_back(std::move(t.account));
        } else {
          todo.push_back(std::move(t));
        }
      }
      if (todo.empty()) return reply(std::move(answer));
      auto handle = mail.begin_message();
      if (!handle) {
        log::error("deliver", "{}: {}", queue_id, handle.error().message);
        answer.failed = true;
        return reply(std::move(answer));
      }
      mail.write(*handle, *content);
      std::vector<std::string> accounts;
      for (const auto& t : todo) accounts.push_back(t.account);
      mail.append(
          *handle, std::move(todo), received, 0,
          [reply, queue_id, answer = std::move(answer),
           accounts = std::move(accounts)](Result<std::vector<mailstore::AppendedAt>> r) mutable {
            if (!r) {
              log::error("deliver", "{}: not delivered: {}", queue_id, r.error().message);
              answer.failed = true;
            } else {
              answer.delivered.insert(answer.delivered.end(), accounts.begin(), accounts.end());
            }
            reply(std::move(answer));
          });
    };
    if (!cores_.run_on(owner, std::move(task))) {
      reactor_.post([weak, queue_id] {
        if (auto self = weak.lock()) (*self)->answered(queue_id, Answer{{}, {}, true});
      });
    }
  }
}

void Delivery::retry_later(const std::string& queue_id) {
  retry_.push_back(queue_id);
  if (!retry_armed_) {
    retry_armed_ = true;
    reactor_.timers().arm(retry_timer_, settings_.retry);
  }
}

void Delivery::answered(const std::string& queue_id, Answer answer) {
  auto it = in_flight_.find(queue_id);
  if (it == in_flight_.end()) return;
  InFlight& f = it->second;
  // Every target naming an account shares the account's one append.
  const std::unordered_set<std::string> delivered(answer.delivered.begin(), answer.delivered.end());
  const std::unordered_set<std::string> full(answer.over_quota.begin(), answer.over_quota.end());
  for (Target& t : f.targets) {
    if (delivered.count(t.account)) t.done = true;
    if (full.count(t.account)) t.over_quota = true;
  }
  if (answer.failed) f.failed = true;
  if (--f.batches == 0) finish(f);
}

void Delivery::finish(InFlight& f) {
  const std::string queue_id = f.queue_id;
  std::vector<std::string> mailboxes;
  bool all = true;
  for (uint32_t i = 0; i < f.has_remote.size(); i++) {
    if (f.was_done[i]) continue;
    bool done = !f.has_remote[i];
    bool any = false;
    for (const Target& t : f.targets) {
      if (t.recipient != i) continue;
      any = true;
      done = done && t.done;
      all = all && t.done;
    }
    if (!any || !done) continue;
    spool_.mark_done(queue_id, i, [queue_id, i](Result<void> r) {
      if (!r)
        log::error("deliver", "{}: recording recipient {} done: {}", queue_id, i,
                   r.error().message);
    });
  }
  std::vector<std::string> full;
  bool only_quota_left = !f.failed;
  for (const Target& t : f.targets) {
    if (t.done) mailboxes.push_back(t.account);
    if (!t.done && t.over_quota) full.push_back(t.account);
    if (!t.done && !t.over_quota) only_quota_left = false;
  }
  const int64_t received_at = f.received_at;
  const bool waits_for_bounce = only_quota_left && !full.empty() &&
                                static_cast<int64_t>(::time(nullptr)) - received_at >=
                                    settings_.over_quota_bounce_after.count();
  in_flight_bytes_ -= f.bytes;
  in_flight_.erase(queue_id);
  if (all) {
    queued_.erase(queue_id);
    bounce_due_.erase(queue_id);
    log::info("deliver", "{}: delivered to {}", queue_id, fmt::join(mailboxes, ", "));
  } else {
    // Tried again, also past over_quota_bounce_after: until a bounce can be sent, the
    // mailbox may still make room.
    if (waits_for_bounce && bounce_due_.insert(queue_id).second) {
      log::warning("deliver", "{}: {} over quota since {}; waiting for a bounce", queue_id,
                   fmt::join(full, ", "), iso_time(received_at));
    }
    retry_later(queue_id);
    if (!full.empty() && !waits_for_bounce)
      log::info("deliver", "{}: {} over quota; tried again in {} s", queue_id,
                fmt::join(full, ", "), settings_.retry.count());
  }
  pump();
}

}  // namespace postcore::server
