#include "queue/mailstore/account_state.h"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

namespace postcore::mailstore {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

Error refused(std::string_view what) {
  return make_error(EINVAL, std::string(what));
}

bool equals_nocase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
    return up(x) == up(y);
  });
}

// A folder name: not empty, no control characters, no empty hierarchy level.
bool good_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/' ||
      name.find("//") != std::string_view::npos)
    return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool good_keyword(std::string_view k) {
  return !k.empty() && std::none_of(k.begin(), k.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
}

// Every uid in `uids` ascends and is in `folder`.
template <typename Range, typename UidOf>
bool all_present(const Folder& folder, const Range& items, UidOf uid_of) {
  uint32_t last = 0;
  for (const auto& item : items) {
    const uint32_t uid = uid_of(item);
    if (uid <= last || !folder.index_of(uid)) return false;
    last = uid;
  }
  return true;
}

}  // namespace

Folder::Folder(const FolderCreated& created)
    : id_(created.folder),
      name_(created.name),
      uidvalidity_(created.uidvalidity),
      special_use_(created.special_use) {}

std::optional<size_t> Folder::index_of(uint32_t uid) const {
  auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                             [](const Message& m, uint32_t u) { return m.uid < u; });
  if (it == messages_.end() || it->uid != uid) return std::nullopt;
  return static_cast<size_t>(it - messages_.begin());
}

std::optional<uint8_t> Folder::keyword_index(std::string_view name) const {
  for (size_t i = 0; i < keywords_.size(); i++)
    if (equals_nocase(keywords_[i], name)) return static_cast<uint8_t>(i);
  return std::nullopt;
}

std::string Folder::uidl(const Message& m) const {
  auto it = uidls_.find(m.uid);
  if (it != uidls_.end()) return it->second;
  return fmt::format("{:08X}{:08X}", m.uid, uidvalidity_);
}

std::string AccountState::name_key(std::string_view name) const {
  if (equals_nocase(name, "INBOX")) return "INBOX";
  return std::string(name);
}

uint64_t AccountState::total_size() const {
  uint64_t total = 0;
  for (const auto& [id, folder] : folders_) total += folder->total_size();
  return total;
}

const Folder* AccountState::folder(uint32_t id) const {
  auto it = folders_.find(id);
  return it == folders_.end() ? nullptr : it->second.get();
}

Folder* AccountState::mutable_folder(uint32_t id) {
  auto it = folders_.find(id);
  return it == folders_.end() ? nullptr : it->second.get();
}

const Folder* AccountState::folder_named(std::string_view name) const {
  auto it = by_name_.find(name_key(name));
  return it == by_name_.end() ? nullptr : folder(it->second);
}

std::vector<const Folder*> AccountState::folders() const {
  std::vector<const Folder*> out;
  for (const auto& [id, f] : folders_) out.push_back(f.get());
  std::sort(out.begin(), out.end(),
            [](const Folder* a, const Folder* b) { return a->name() < b->name(); });
  return out;
}

uint32_t AccountState::next_uidvalidity(uint32_t now) const {
  return std::max(now, last_uidvalidity_ + 1);
}

Result<void> AccountState::apply(const Change& change) {
  if (auto ok = check(change); !ok) return ok;
  apply_checked(change);
  return {};
}

Result<void> AccountState::check(const Change& change) const {
  auto existing = [&](uint32_t id) -> Result<const Folder*> {
    const Folder* f = folder(id);
    if (!f) return refused(fmt::format("no folder {}", id));
    return f;
  };
  return std::visit(
      Overloaded{
          [&](const FolderCreated& c) -> Result<void> {
            if (c.folder < next_folder_id_)
              return refused(fmt::format("folder id {} was used before", c.folder));
            if (!good_name(c.name)) return refused("bad folder name '" + c.name + "'");
            if (by_name_.count(name_key(c.name))) return refused(c.name + " exists");
            if (c.uidvalidity == 0) return refused("UIDVALIDITY 0");
            return {};
          },
          [&](const FolderRenamed& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if ((*f)->name() == "INBOX") return refused("INBOX is not renamed here");
            if (!good_name(c.name)) return refused("bad folder name '" + c.name + "'");
            if (by_name_.count(name_key(c.name))) return refused(c.name + " exists");
            return {};
          },
          [&](const FolderDeleted& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if ((*f)->name() == "INBOX") return refused("INBOX cannot be deleted");
            return {};
          },
          [&](const Subscribed& c) -> Result<void> {
            if (!good_name(c.name)) return refused("bad folder name '" + c.name + "'");
            return {};
          },
          [&](const KeywordDefined& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if (c.index != (*f)->keywords().size() || c.index >= kMaxKeywords)
              return refused(fmt::format("keyword {} is not the next free one", c.index));
            if (!good_keyword(c.name)) return refused("bad keyword '" + c.name + "'");
            if ((*f)->keyword_index(c.name)) return refused("keyword " + c.name + " exists");
            return {};
          },
          [&](const Appended& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if (c.uid < (*f)->uidnext() || c.uid == 0)
              return refused(fmt::format("UID {} is below UIDNEXT {}", c.uid, (*f)->uidnext()));
            if (c.uid == UINT32_MAX) return refused("UID space exhausted");
            if (c.modseq <= (*f)->highest_modseq())
              return refused(fmt::format("MODSEQ {} does not rise", c.modseq));
            const size_t defined = (*f)->keywords().size();
            if (defined < 64 && c.keywords >> defined != 0) return refused("an undefined keyword");
            if (!c.delivery.empty() && deliveries_.count(c.delivery))
              return refused("delivery " + c.delivery + " was appended already");
            return {};
          },
          [&](const FlagsChanged& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if (c.modseq <= (*f)->highest_modseq())
              return refused(fmt::format("MODSEQ {} does not rise", c.modseq));
            if (!all_present(**f, c.messages, [](const FlagsSet& m) { return m.uid; }))
              return refused("flags for a message that is not there");
            const size_t defined = (*f)->keywords().size();
            for (const FlagsSet& m : c.messages)
              if (defined < 64 && m.keywords >> defined != 0)
                return refused("an undefined keyword");
            return {};
          },
          [&](const Expunged& c) -> Result<void> {
            auto f = existing(c.folder);
            if (!f) return f.error();
            if (c.modseq <= (*f)->highest_modseq())
              return refused(fmt::format("MODSEQ {} does not rise", c.modseq));
            if (!all_present(**f, c.uids, [](uint32_t uid) { return uid; }))
              return refused("expunge of a message that is not there");
            return {};
          },
      },
      change);
}

void AccountState::apply_checked(const Change& change) {
  std::visit(
      Overloaded{
          [&](const FolderCreated& c) {
            folders_.emplace(c.folder, std::make_unique<Folder>(c));
            by_name_[name_key(c.name)] = c.folder;
            next_folder_id_ = c.folder + 1;
            last_uidvalidity_ = std::max(last_uidvalidity_, c.uidvalidity);
          },
          [&](const FolderRenamed& c) {
            Folder* f = mutable_folder(c.folder);
            by_name_.erase(name_key(f->name_));
            f->name_ = c.name;
            by_name_[name_key(c.name)] = c.folder;
          },
          [&](const FolderDeleted& c) {
            by_name_.erase(name_key(folder(c.folder)->name()));
            folders_.erase(c.folder);
          },
          [&](const Subscribed& c) {
            if (c.subscribed)
              subscriptions_.insert(c.name);
            else
              subscriptions_.erase(c.name);
          },
          [&](const KeywordDefined& c) { mutable_folder(c.folder)->keywords_.push_back(c.name); },
          [&](const Appended& c) {
            Folder* f = mutable_folder(c.folder);
            f->messages_.push_back({c.uid, c.flags, c.keywords, c.modseq, c.internal_date,
                                    c.zone_minutes, c.size, c.blob});
            f->total_size_ += c.size;
            f->uidnext_ = c.uid + 1;
            f->highest_modseq_ = c.modseq;
            if (!c.uidl.empty()) f->uidls_[c.uid] = c.uidl;
            if (!c.delivery.empty()) deliveries_.insert(c.delivery);
          },
          [&](const FlagsChanged& c) {
            Folder* f = mutable_folder(c.folder);
            for (const FlagsSet& s : c.messages) {
              Message& m = f->messages_[*f->index_of(s.uid)];
              m.flags = s.flags;
              m.keywords = s.keywords;
              m.modseq = c.modseq;
            }
            f->highest_modseq_ = c.modseq;
          },
          [&](const Expunged& c) {
            Folder* f = mutable_folder(c.folder);
            // Both ascend: one pass keeps the rest in order.
            size_t next = 0;
            std::erase_if(f->messages_, [&](const Message& m) {
              if (next < c.uids.size() && c.uids[next] == m.uid) {
                next++;
                f->total_size_ -= m.size;
                f->uidls_.erase(m.uid);
                return true;
              }
              return false;
            });
            f->highest_modseq_ = c.modseq;
          },
      },
      change);
}

bool AccountState::discard(uint32_t folder, uint32_t uid, const std::string& delivery) {
  Folder* f = mutable_folder(folder);
  if (!f) return false;
  auto at = f->index_of(uid);
  if (!at) return false;
  f->total_size_ -= f->messages_[*at].size;
  f->uidls_.erase(uid);
  f->messages_.erase(f->messages_.begin() + static_cast<std::ptrdiff_t>(*at));
  if (!delivery.empty()) deliveries_.erase(delivery);
  return true;
}

}  // namespace postcore::mailstore
