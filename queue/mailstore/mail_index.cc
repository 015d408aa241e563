#include "queue/mailstore/mail_index.h"

#include <cerrno>

#include <fmt/format.h>

#include "queue/spool/wire.h"

namespace postcore::mailstore {
namespace {

constexpr uint8_t kEntryVersion = 1;

// The octets a change stops referring to: expunged messages', a deleted folder's.
std::vector<uint64_t> blobs_dropped_by(const AccountState& state, const Change& change) {
  std::vector<uint64_t> dropped;
  if (const auto* expunged = std::get_if<Expunged>(&change)) {
    if (const Folder* f = state.folder(expunged->folder)) {
      for (uint32_t uid : expunged->uids) {
        if (auto i = f->index_of(uid)) dropped.push_back(f->messages()[*i].blob);
      }
    }
  } else if (const auto* deleted = std::get_if<FolderDeleted>(&change)) {
    if (const Folder* f = state.folder(deleted->folder)) {
      for (const Message& m : f->messages()) dropped.push_back(m.blob);
    }
  }
  return dropped;
}

}  // namespace

std::string encode_log_entry(std::string_view account, const Change& change) {
  std::string out;
  spool::wire::put<uint8_t>(out, kEntryVersion);
  spool::wire::put_string(out, account);
  out += encode_change(change);
  return out;
}

Result<LogEntry> decode_log_entry(std::string_view bytes) {
  spool::wire::Decoder d(bytes);
  uint8_t version = 0;
  LogEntry entry;
  if (!d.get(&version)) return make_error(EBADMSG, "empty log entry");
  if (version != kEntryVersion) {
    return make_error(EBADMSG, fmt::format("unknown log entry version {}", version));
  }
  if (!d.get_string(&entry.account, kMaxAccountName) || entry.account.empty()) {
    return make_error(EBADMSG, "log entry without an account");
  }
  auto change = decode_change(bytes.substr(bytes.size() - d.remaining()));
  if (!change) return change.error();
  entry.change = std::move(*change);
  return entry;
}

Result<void> MailIndex::apply(const std::string& account, const Change& change,
                              std::vector<uint64_t>* released) {
  if (account.empty() || account.size() > kMaxAccountName) {
    return make_error(EINVAL, "bad account name");
  }
  auto& slot = accounts_[account];
  const bool created = !slot;
  if (created) slot = std::make_unique<AccountState>();
  const std::vector<uint64_t> dropped = blobs_dropped_by(*slot, change);
  auto applied = slot->apply(change);
  if (!applied) {
    if (created) accounts_.erase(account);  // a refused change leaves no empty account
    return make_error(applied.error().code,
                      fmt::format("{}: {}", account, applied.error().message));
  }
  if (const auto* appended = std::get_if<Appended>(&change)) references_[appended->blob]++;
  for (uint64_t blob : dropped) {
    auto it = references_.find(blob);
    if (it == references_.end() || --it->second > 0) continue;
    references_.erase(it);
    if (released) released->push_back(blob);
  }
  return {};
}

Result<void> MailIndex::replay(const LogEntry& entry, bool stored) {
  auto applied = apply(entry.account, entry.change);
  if (!applied) return applied;
  if (const auto* appended = std::get_if<Appended>(&entry.change); appended && !stored) {
    unstored_.push_back(
        {entry.account, appended->folder, appended->uid, appended->blob, appended->delivery});
  }
  return {};
}

size_t MailIndex::discard_unstored() {
  size_t discarded = 0;
  for (const Unstored& u : unstored_) {
    auto it = accounts_.find(u.account);
    if (it == accounts_.end() || !it->second->discard(u.folder, u.uid, u.delivery)) continue;
    discarded++;
    auto ref = references_.find(u.blob);
    if (ref != references_.end() && --ref->second == 0) references_.erase(ref);
  }
  unstored_.clear();
  return discarded;
}

const AccountState* MailIndex::account(std::string_view name) const {
  auto it = accounts_.find(std::string(name));
  return it == accounts_.end() ? nullptr : it->second.get();
}

uint64_t MailIndex::messages() const {
  uint64_t n = 0;
  for (const auto& [name, account] : accounts_) {
    for (const Folder* folder : account->folders()) n += folder->messages().size();
  }
  return n;
}

}  // namespace postcore::mailstore
