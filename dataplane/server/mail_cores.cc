#include "dataplane/server/mail_cores.h"

#include <fcntl.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace postcore::server {

MailCores::MailCores(unsigned count)
    : count_(count ? count : 1), reactors_(count_, nullptr), shards_(count_, nullptr) {}

unsigned MailCores::owner(std::string_view account) const {
  // FNV-1a: stable across builds and runs, unlike std::hash.
  uint64_t h = 14695981039346656037ull;
  for (char c : account) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<unsigned>(h % count_);
}

void MailCores::attach(unsigned core, engine::Reactor* reactor, mailstore::MailShard* shard) {
  std::lock_guard lock(mu_);
  reactors_.at(core) = reactor;
  shards_.at(core) = shard;
}

void MailCores::detach(unsigned core) {
  std::lock_guard lock(mu_);
  reactors_.at(core) = nullptr;
  shards_.at(core) = nullptr;
}

void MailCores::set_usage(const std::string& account, uint64_t bytes) {
  std::lock_guard lock(mu_);
  usage_[account] = bytes;
}

uint64_t MailCores::usage(const std::string& account) const {
  std::lock_guard lock(mu_);
  auto it = usage_.find(account);
  return it == usage_.end() ? 0 : it->second;
}

bool MailCores::run_on(unsigned core, std::function<void(mailstore::MailShard&)> task) {
  std::lock_guard lock(mu_);
  if (core >= count_ || !reactors_[core]) return false;
  // The shard outlives every task the reactor runs: it is detached before its reactor
  // stops running tasks, and tasks left in the reactor then are dropped unrun.
  mailstore::MailShard* shard = shards_[core];
  reactors_[core]->post([shard, task = std::move(task)] { task(*shard); });
  return true;
}

namespace {

// Whether any shard's log has a file: an empty store may change its core count.
Result<bool> holds_mail(volume::FileIo& io, const std::string& mail_dir) {
  const std::string root = mailstore::mail_log_root(mail_dir);
  auto shards = io.list_dir(root);
  if (!shards) return shards.error().code == ENOENT ? Result<bool>(false) : shards.error();
  for (const std::string& shard : *shards) {
    auto files = io.list_dir(root + "/" + shard);
    if (files && !files->empty()) return true;
  }
  return false;
}

}  // namespace

Result<void> check_mail_layout(volume::FileIo& io, const std::string& data_dir, unsigned count) {
  const std::string dir = data_dir + "/mail";
  const std::string path = dir + "/cores";
  if (auto made = io.mkdir(dir); !made) return made.error();
  if (auto synced = io.sync_dir(data_dir); !synced) return synced.error();
  auto fd = io.open(path, O_RDONLY, 0);
  if (fd) {
    char text[32] = {};
    auto got = io.read(*fd, 0, text, sizeof text - 1);
    (void)io.close(*fd);
    if (!got) return got.error();
    unsigned recorded = 0;
    auto [end, ec] = std::from_chars(text, text + *got, recorded);
    if (ec != std::errc() || recorded == 0 || end == text || (*end != '\n' && *end != '\0')) {
      return make_error(EINVAL, fmt::format("{}: not a core count", path));
    }
    if (recorded == count) return {};
    auto holds = holds_mail(io, dir);
    if (!holds) return holds.error();
    if (*holds) {
      return make_error(EINVAL, fmt::format("{}: the mail store was made by {} cores and mailboxes "
                                            "are kept by core; set cores = {} in the profile",
                                            path, recorded, recorded));
    }
  } else if (fd.error().code != ENOENT) {
    return fd.error();
  }
  const std::string tmp = path + ".tmp";
  auto out = io.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (!out) return out.error();
  const std::string text = fmt::format("{}\n", count);
  auto written = io.write_at(*out, 0, text.data(), text.size());
  if (written) written = io.sync(*out);
  (void)io.close(*out);
  if (!written) return written.error();
  if (auto renamed = io.rename(tmp, path); !renamed) return renamed.error();
  return io.sync_dir(dir);
}

}  // namespace postcore::server
