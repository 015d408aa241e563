#include "queue/mailstore/mail_shard.h"

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/wire.h"

namespace postcore::mailstore {
namespace {

// Log and blob entries are spool messages with one "recipient": the bit that says the
// entry is no longer needed.
Envelope one_bit_envelope() {
  Envelope envelope;
  envelope.recipients.emplace_back();
  envelope.received_at = static_cast<int64_t>(::time(nullptr));
  return envelope;
}

uint64_t key_of(const std::string& queue_id) {
  auto id = spool::parse_queue_id(queue_id);
  return id ? spool::message_key(id->segment, id->number) : 0;
}

}  // namespace

std::string mail_root(const std::string& data_dir) {
  return data_dir + "/mail";
}
std::string mail_log_root(const std::string& mail_root) {
  return mail_root + "/log";
}
std::string mail_blob_root(const std::string& mail_root) {
  return mail_root + "/blob";
}

MailShard::MailShard(volume::FileIo& io, MailShardOptions options)
    : io_(io), options_(std::move(options)) {
  auto shard_options = [&](const std::string& root) {
    spool::ShardOptions o;
    o.dir = root + "/" + spool::shard_dir_name(options_.shard);
    o.shard = options_.shard;
    o.segment_bytes = options_.segment_bytes;
    o.write_buffer_bytes = options_.write_buffer_bytes;
    return o;
  };
  log_ = std::make_unique<spool::SpoolShard>(io_, shard_options(mail_log_root(options_.root)));
  blobs_ = std::make_unique<spool::SpoolShard>(io_, shard_options(mail_blob_root(options_.root)));
}

MailShard::~MailShard() = default;

Result<MailRecovery> MailShard::open() {
  if (opened_) return make_error(EINVAL, "mail shard is open already");
  MailRecovery report;
  auto blob_report = blobs_->open();
  if (!blob_report) return blob_report.error();
  report.blob = std::move(*blob_report);
  auto log_report = log_->open();
  if (!log_report) return log_report.error();
  report.log = std::move(*log_report);

  std::vector<std::string> ids;
  log_->for_each_message([&](const spool::MessageInfo& m) { ids.push_back(m.queue_id); });
  for (const std::string& id : ids) {
    std::string bytes;
    auto read = log_->read_content(id, [&](std::string_view piece) -> Result<void> {
      bytes.append(piece);
      return {};
    });
    if (!read) {
      report.entries_unreadable++;
      report.changes_skipped++;
      report.problems.push_back(fmt::format("log entry {}: {}", id, read.error().message));
      continue;
    }
    auto replayed = replay_entry(bytes, report);
    if (!replayed) {
      report.changes_skipped++;
      report.problems.push_back(fmt::format("log entry {}: {}", id, replayed.error().message));
    }
  }

  report.appends_discarded = index_.discard_unstored();
  // Octets no mailbox refers to: an append that was never answered, or an expunge whose
  // release had not been recorded yet. Not while some entry could not be read: it may be
  // the append that refers to them.
  std::vector<std::string> unreferenced;
  blobs_->for_each_message([&](const spool::MessageInfo& m) {
    if (index_.referenced(key_of(m.queue_id))) {
      report.blobs++;
    } else {
      unreferenced.push_back(m.queue_id);
    }
  });
  for (const std::string& id : unreferenced) {
    if (report.entries_unreadable > 0) break;
    report.blobs_released++;
    blobs_->mark_done(id, 0, [](Result<void>) {});
  }
  if (options_.on_usage) {
    for (const auto& [name, account] : index_.accounts())
      options_.on_usage(name, account->total_size());
  }
  report.accounts = index_.accounts().size();
  report.messages = index_.messages();
  opened_ = true;
  return report;
}

Result<void> MailShard::replay_entry(std::string_view bytes, MailRecovery& report) {
  auto entry = decode_log_entry(bytes);
  if (!entry) {
    report.entries_unreadable++;
    return entry.error();
  }
  bool stored = true;
  if (const auto* appended = std::get_if<Appended>(&entry->change)) {
    stored = blobs_->find(spool::format_queue_id(options_.shard, appended->blob)).ok();
  }
  auto applied = index_.replay(*entry, stored);
  if (!applied) return applied.error();
  report.changes++;
  return {};
}

// Checks and applies `change` to the account now, and writes it to the log as part of
// `op`.
Result<void> MailShard::propose(Op& op, const std::string& account, const Change& change) {
  auto applied = index_.apply(account, change, &op.released);
  if (!applied) return applied.error();
  if (options_.on_usage &&
      (std::holds_alternative<Appended>(change) || std::holds_alternative<Expunged>(change) ||
       std::holds_alternative<FolderDeleted>(change))) {
    options_.on_usage(account, index_.account(account)->total_size());
  }
  if (const auto* appended = std::get_if<Appended>(&change)) {
    hidden_[{account, appended->folder}].push_back(appended->uid);
    op.appended_folders.emplace_back(account, appended->folder);
  }

  auto handle = log_->begin(one_bit_envelope());
  if (!handle) {
    // The change is applied in memory but cannot be logged: the state is no longer what
    // the log says, so the shard stops.
    failed_ = true;
    failure_ = handle.error();
    return handle.error();
  }
  log_->append(*handle, encode_log_entry(account, change));
  log_->commit(*handle, on_durable(op));
  return {};
}

Result<uint32_t> MailShard::ensure_folder(Op& op, const std::string& account,
                                          const std::string& name) {
  static const AccountState empty;
  const AccountState* state = index_.account(account);
  if (!state) state = &empty;
  if (const Folder* f = state->folder_named(name)) return f->id();
  FolderCreated created;
  created.folder = state->next_folder_id();
  created.name = name;
  created.uidvalidity = state->next_uidvalidity(static_cast<uint32_t>(::time(nullptr)));
  auto proposed = propose(op, account, created);
  if (!proposed) return proposed.error();
  return created.folder;
}

Result<uint8_t> MailShard::ensure_keyword(Op& op, const std::string& account, uint32_t folder,
                                          const std::string& keyword) {
  const Folder* f = index_.account(account)->folder(folder);
  if (auto index = f->keyword_index(keyword)) return *index;
  if (f->keywords().size() >= kMaxKeywords) {
    return make_error(ENOSPC, "the folder has as many keywords as it can hold");
  }
  KeywordDefined defined{folder, static_cast<uint8_t>(f->keywords().size()), keyword};
  auto proposed = propose(op, account, defined);
  if (!proposed) return proposed.error();
  return defined.index;
}

Result<MailShard::Handle> MailShard::begin_message() {
  if (!opened_) return make_error(EINVAL, "mail shard is not open");
  if (failed_) return stopped();
  auto handle = blobs_->begin(one_bit_envelope());
  if (!handle) return handle.error();
  sizes_[handle->slot] = 0;
  return Handle{*handle};
}

void MailShard::write(Handle handle, std::string_view octets) {
  sizes_[handle.blob.slot] += octets.size();
  blobs_->append(handle.blob, octets);
}

void MailShard::abort(Handle handle) {
  sizes_.erase(handle.blob.slot);
  blobs_->abort(handle.blob);
}

void MailShard::append(Handle handle, std::vector<AppendTarget> targets, int64_t internal_date,
                       int16_t zone_minutes, AppendDone done) {
  auto op = std::make_unique<Op>();
  auto results = std::make_shared<std::vector<AppendedAt>>();
  op->done = [results, done = std::move(done)](Result<void> result) {
    if (!result) return done(result.error());
    done(std::move(*results));
  };
  auto fail = [&](Error error) {
    op->failed = true;
    op->error = std::move(error);
  };
  const uint64_t blob = key_of(blobs_->queue_id(handle.blob));
  uint64_t size = 0;
  if (auto it = sizes_.find(handle.blob.slot); it != sizes_.end()) {
    size = it->second;
    sizes_.erase(it);
  }
  if (failed_) fail(stopped());
  for (const AppendTarget& target : targets) {
    if (op->failed) break;
    const AccountState* state = account(target.account);
    if (state && !target.delivery.empty() && state->delivered(target.delivery)) {
      fail(make_error(EEXIST, target.account + " holds delivery " + target.delivery));
      break;
    }
    auto folder = ensure_folder(*op, target.account, target.folder);
    if (!folder) {
      fail(folder.error());
      break;
    }
    uint64_t keywords = 0;
    for (const std::string& keyword : target.keywords) {
      auto index = ensure_keyword(*op, target.account, *folder, keyword);
      if (!index) {
        fail(index.error());
        break;
      }
      keywords |= uint64_t{1} << *index;
    }
    if (op->failed) break;
    const Folder* f = index_.account(target.account)->folder(*folder);
    Appended appended;
    appended.folder = *folder;
    appended.uid = f->uidnext();
    appended.modseq = f->highest_modseq() + 1;
    appended.flags = target.flags;
    appended.keywords = keywords;
    appended.internal_date = internal_date;
    appended.zone_minutes = zone_minutes;
    appended.size = size;
    appended.blob = blob;
    appended.uidl = target.uidl;
    appended.delivery = target.delivery;
    auto proposed = propose(*op, target.account, appended);
    if (!proposed) {
      fail(proposed.error());
      break;
    }
    results->push_back(AppendedAt{appended.folder, appended.uid});
  }
  if (results->empty()) {
    blobs_->abort(handle.blob);
  } else {
    blobs_->commit(handle.blob, on_durable(*op));
  }
  submit(std::move(op));
}

void MailShard::change(std::string_view account, Change change, Done done) {
  auto op = std::make_unique<Op>();
  op->done = std::move(done);
  if (!opened_) {
    op->failed = true;
    op->error = make_error(EINVAL, "mail shard is not open");
  } else if (failed_) {
    op->failed = true;
    op->error = stopped();
  } else {
    auto proposed = propose(*op, std::string(account), change);
    if (!proposed) {
      op->failed = true;
      op->error = proposed.error();
    }
  }
  submit(std::move(op));
}

// One more write `op` waits for. A write that fails stops the shard: the state in memory
// is then ahead of what the log holds.
spool::SpoolShard::DurableCallback MailShard::on_durable(Op& op) {
  op.outstanding++;
  return [this, raw = &op](Result<void> result) {
    raw->outstanding--;
    if (!result) {
      if (!failed_) {
        log::error("mailstore", "shard {}: a log write failed, the shard stops: {}", options_.shard,
                   result.error().message);
        failure_ = result.error();
      }
      failed_ = true;
      if (!raw->failed) {
        raw->failed = true;
        raw->error = result.error();
      }
    }
    settle();
  };
}

Error MailShard::stopped() const {
  return make_error(EIO, "the mail store stopped after a write failure: " + failure_.message);
}

void MailShard::submit(std::unique_ptr<Op> op) {
  ops_.push_back(std::move(op));
}

// Answers ops in proposal order, each once it and all before it are durable.
void MailShard::settle() {
  while (!ops_.empty() && ops_.front()->outstanding == 0) {
    std::unique_ptr<Op> op = std::move(ops_.front());
    ops_.pop_front();
    for (const auto& key : op->appended_folders) {
      auto it = hidden_.find(key);
      if (it == hidden_.end()) continue;
      if (!it->second.empty()) it->second.pop_front();
      if (it->second.empty()) hidden_.erase(it);
    }
    if (failed_ && !op->failed) {
      op->failed = true;
      op->error = failure_;
    }
    if (!op->failed) {
      for (uint64_t blob : op->released) {
        blobs_->mark_done(spool::format_queue_id(options_.shard, blob), 0, [](Result<void> r) {
          if (!r)
            log::warning("mailstore", "recording released octets failed: {}", r.error().message);
        });
      }
    }
    if (op->done) op->done(op->failed ? Result<void>(op->error) : Result<void>());
  }
}

void MailShard::flush() {
  log_->flush();
  blobs_->flush();
  settle();
}

bool MailShard::idle() const {
  return ops_.empty() && log_->idle() && blobs_->idle();
}

const AccountState* MailShard::account(std::string_view name) const {
  return index_.account(name);
}

bool MailShard::visible(std::string_view account, uint32_t folder, uint32_t uid) const {
  auto it = hidden_.find({std::string(account), folder});
  return it == hidden_.end() || uid < it->second.front();
}

Result<void> MailShard::read(uint64_t blob, const spool::ContentSink& sink) const {
  return blobs_->read_content(spool::format_queue_id(options_.shard, blob), sink);
}

}  // namespace postcore::mailstore
