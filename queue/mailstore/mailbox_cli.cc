#include "queue/mailstore/mailbox_cli.h"
#include "common/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "queue/mailstore/mail_index.h"
#include "queue/mailstore/mail_shard.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/spool_cli.h"
#include "queue/spool/spool_reader.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::mailstore {
namespace {

constexpr std::string_view kUsage =
    "usage: postcore mailbox list ACCOUNT [--folder F|*] [--json [--content]] | show ACCOUNT UID "
    "[--folder F] | stats [--json] | verify [--repair] [--json]  [--data-dir DIR]";

struct Arguments {
  std::string command;
  std::string account;
  uint32_t uid = 0;
  std::string folder = "INBOX";
  std::string data_dir = "./var";
  std::string member_root;  // where the store is read: the first healthy member's root
  bool json = false;
  bool content = false;  // list --json: each message's octets too
  bool repair = false;   // verify: first mend damaged copies from good ones (stopped only)
  bool help = false;
};

std::optional<Arguments> parse_arguments(int argc, char** argv, std::string* problem) {
  Arguments args;
  std::vector<std::string_view> positional;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *problem = std::string(arg) + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    if (arg == "--json") {
      args.json = true;
    } else if (arg == "--content") {
      args.content = true;
    } else if (arg == "--repair") {
      args.repair = true;
    } else if (arg == "-h" || arg == "--help") {
      args.help = true;
    } else if (arg == "--data-dir") {
      if (!value(&args.data_dir)) return std::nullopt;
    } else if (arg == "--folder") {
      if (!value(&args.folder)) return std::nullopt;
    } else if (arg.starts_with("-")) {
      *problem = "unknown option " + std::string(arg);
      return std::nullopt;
    } else {
      positional.push_back(arg);
    }
  }
  if (args.help) return args;
  if (positional.empty()) {
    *problem = "missing command";
    return std::nullopt;
  }
  args.command = positional[0];
  size_t expected = 0;
  if (args.command == "list") {
    expected = 2;
  } else if (args.command == "show") {
    expected = 3;
  } else if (args.command == "stats" || args.command == "verify") {
    expected = 1;
  } else {
    *problem = "unknown command " + args.command;
    return std::nullopt;
  }
  if (positional.size() != expected) {
    *problem = args.command == "list"   ? "list needs exactly one account"
               : args.command == "show" ? "show needs an account and a UID"
                                        : args.command + " takes no arguments";
    return std::nullopt;
  }
  if (expected >= 2) args.account = positional[1];
  if (expected == 3) {
    std::string_view uid = positional[2];
    auto [end, ec] = std::from_chars(uid.data(), uid.data() + uid.size(), args.uid);
    if (ec != std::errc() || end != uid.data() + uid.size() || args.uid == 0) {
      *problem = "not a UID: " + std::string(uid);
      return std::nullopt;
    }
  }
  if (args.repair && args.command != "verify") {
    *problem = "--repair goes with verify";
    return std::nullopt;
  }
  if (args.content && (args.command != "list" || !args.json)) {
    *problem = "--content goes with list --json";
    return std::nullopt;
  }
  if (args.data_dir.empty()) {
    *problem = "--data-dir is empty";
    return std::nullopt;
  }
  return args;
}

std::vector<std::string> flag_names(const Folder& folder, const Message& m) {
  static constexpr std::pair<uint8_t, const char*> kSystem[] = {
      {flag_seen, "\\Seen"},       {flag_answered, "\\Answered"}, {flag_flagged, "\\Flagged"},
      {flag_deleted, "\\Deleted"}, {flag_draft, "\\Draft"},
  };
  std::vector<std::string> names;
  for (const auto& [bit, name] : kSystem) {
    if (m.flags & bit) names.push_back(name);
  }
  for (size_t i = 0; i < folder.keywords().size(); i++) {
    if (m.keywords >> i & 1) names.push_back(folder.keywords()[i]);
  }
  return names;
}

// The store as its logs say, shard by shard.
struct Store {
  std::map<uint16_t, MailIndex> shards;
  // The spool delivery each message came from, by shard, account, folder and UID.
  std::map<std::tuple<uint16_t, std::string, uint32_t, uint32_t>, std::string> deliveries;
  std::set<std::string> stored;  // queue ids of stored octets
  uint64_t entries = 0;
  uint64_t skipped = 0;
  uint64_t stored_bytes = 0;

  // The shard holding `account`, or null.
  std::pair<uint16_t, const AccountState*> find(std::string_view account) const {
    for (const auto& [shard, index] : shards) {
      if (const AccountState* a = index.account(account)) return {shard, a};
    }
    return {0, nullptr};
  }
};

Result<Store> load(volume::FileIo& io, const std::string& member_root) {
  Store store;
  const std::string root = mail_root(member_root);
  auto blobs = spool::SpoolReader::at_root(io, mail_blob_root(root)).list(false);
  if (!blobs && blobs.error().code != ENOENT) return blobs.error();
  if (blobs) {
    for (const auto& b : *blobs) {
      store.stored.insert(b.queue_id);
      store.stored_bytes += b.size;
    }
  }
  auto entries = spool::SpoolReader::at_root(io, mail_log_root(root)).list(true);
  if (!entries) {
    if (entries.error().code == ENOENT) return store;
    return entries.error();
  }
  for (const auto& e : *entries) {
    MailIndex& index = store.shards[e.shard];
    store.entries++;
    if (!e.content) {
      store.skipped++;
      continue;
    }
    auto entry = decode_log_entry(*e.content);
    if (!entry) {
      store.skipped++;
      continue;
    }
    const auto* appended = std::get_if<Appended>(&entry->change);
    const bool stored =
        !appended || store.stored.count(spool::format_queue_id(e.shard, appended->blob));
    if (!index.replay(*entry, stored)) {
      store.skipped++;
    } else if (appended && !appended->delivery.empty()) {
      store.deliveries[{e.shard, entry->account, appended->folder, appended->uid}] =
          appended->delivery;
    }
  }
  for (auto& [shard, index] : store.shards) index.discard_unstored();
  return store;
}

Result<std::string> read_octets(volume::FileIo& io, const std::string& member_root, uint16_t shard,
                                uint64_t blob) {
  auto reader = spool::SpoolReader::at_root(io, mail_blob_root(mail_root(member_root)));
  auto shown = reader.show(spool::format_queue_id(shard, blob));
  if (!shown) return shown.error();
  return std::move(shown->content);
}

int run_list(volume::FileIo& io, const Store& store, const Arguments& args, std::ostream& out,
             std::ostream& err) {
  auto [shard, account] = store.find(args.account);
  if (!account) {
    err << "mailbox: no mailbox for " << args.account << "\n";
    return 1;
  }
  int status = 0;
  // With --content every stored message is read once, in file order.
  std::map<std::string, std::string> octets;
  if (args.content) {
    auto reader = spool::SpoolReader::at_root(io, mail_blob_root(mail_root(args.member_root)));
    auto all = reader.list(true);
    if (!all) {
      err << "mailbox: " << all.error().message << "\n";
      return 1;
    }
    for (auto& b : *all) {
      if (b.content) octets[b.queue_id] = std::move(*b.content);
    }
  }
  nlohmann::json folders = nlohmann::json::array();
  for (const Folder* f : account->folders()) {
    if (args.folder != "*" && f != account->folder_named(args.folder)) continue;
    nlohmann::json messages = nlohmann::json::array();
    if (!args.json) {
      out << fmt::format(
          "{} {}: uidvalidity {} uidnext {} highestmodseq {}, {} messages, {} "
          "bytes\n",
          args.account, f->name(), f->uidvalidity(), f->uidnext(), f->highest_modseq(),
          f->messages().size(), f->total_size());
    }
    for (const Message& m : f->messages()) {
      const std::vector<std::string> flags = flag_names(*f, m);
      if (args.json) {
        nlohmann::json j{{"uid", m.uid},
                         {"size", m.size},
                         {"internal_date", iso_time(m.internal_date)},
                         {"modseq", m.modseq},
                         {"flags", flags},
                         {"uidl", f->uidl(m)},
                         {"stored", spool::format_queue_id(shard, m.blob)}};
        auto delivery = store.deliveries.find({shard, args.account, f->id(), m.uid});
        if (delivery != store.deliveries.end()) j["delivery"] = delivery->second;
        if (args.content) {
          auto it = octets.find(spool::format_queue_id(shard, m.blob));
          if (it == octets.end()) {
            err << fmt::format("mailbox: {} {} UID {}: its octets cannot be read\n", args.account,
                               f->name(), m.uid);
            status = 1;
          } else {
            j["content"] = it->second;
          }
        }
        messages.push_back(std::move(j));
        continue;
      }
      std::string flag_text;
      for (const auto& name : flags) flag_text += (flag_text.empty() ? "" : " ") + name;
      out << fmt::format("  {:>8} {:>10}  {}  {}  ({})\n", m.uid, m.size, iso_time(m.internal_date),
                         f->uidl(m), flag_text);
    }
    if (args.json) {
      folders.push_back({{"name", f->name()},
                         {"uidvalidity", f->uidvalidity()},
                         {"uidnext", f->uidnext()},
                         {"highest_modseq", f->highest_modseq()},
                         {"size", f->total_size()},
                         {"messages", std::move(messages)}});
    }
  }
  if (args.json) {
    nlohmann::json j{{"account", args.account}, {"shard", shard}, {"folders", std::move(folders)}};
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return status;
}

int run_show(volume::FileIo& io, const Store& store, const Arguments& args, std::ostream& out,
             std::ostream& err) {
  auto [shard, account] = store.find(args.account);
  const Folder* f = account ? account->folder_named(args.folder) : nullptr;
  auto i = f ? f->index_of(args.uid) : std::nullopt;
  if (!i) {
    err << fmt::format("mailbox: {} {} has no UID {}\n", args.account, args.folder, args.uid);
    return 1;
  }
  auto octets = read_octets(io, args.member_root, shard, f->messages()[*i].blob);
  if (!octets) {
    err << "mailbox: " << octets.error().message << "\n";
    return 1;
  }
  out << *octets;
  return 0;
}

int run_stats(const Store& store, const Arguments& args, std::ostream& out) {
  uint64_t accounts = 0, messages = 0, bytes = 0;
  for (const auto& [shard, index] : store.shards) {
    accounts += index.accounts().size();
    messages += index.messages();
    for (const auto& [name, account] : index.accounts()) {
      for (const Folder* f : account->folders()) bytes += f->total_size();
    }
  }
  if (args.json) {
    nlohmann::json j{{"accounts", accounts},
                     {"messages", messages},
                     {"bytes", bytes},
                     {"stored_messages", store.stored.size()},
                     {"stored_bytes", store.stored_bytes},
                     {"log_entries", store.entries},
                     {"log_entries_skipped", store.skipped}};
    out << j.dump() << "\n";
    return 0;
  }
  out << fmt::format(
      "{} accounts, {} messages, {} bytes in mailboxes; {} messages stored once ({} bytes); {} "
      "log entries ({} not applied)\n",
      accounts, messages, bytes, store.stored.size(), store.stored_bytes, store.entries,
      store.skipped);
  return 0;
}

// Both logs of every shard, every record's CRC on every member; with --repair, damaged
// copies mended from good ones first (stopped only).
int run_verify(const Arguments& args, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> trees = {"mail/log", "mail/blob"};
  if (args.repair) {
    // With --json the mending report goes to stderr: stdout stays one JSON document.
    if (int r = spool::repair_trees(args.data_dir, trees, "mailbox", args.json ? err : out, err);
        r != 0)
      return r;
  }
  int status = 0;
  nlohmann::json j{{"ok", true}};
  for (const std::string& tree : trees) {
    const std::string name = tree.substr(tree.find('/') + 1);
    std::ostringstream text;
    int r = spool::verify_tree(args.data_dir, tree, args.json, "mailbox", text, err);
    status = std::max(status, r);
    if (args.json) {
      j[name] = nlohmann::json::parse(text.str(), nullptr, false);
      if (r != 0) j["ok"] = false;
    } else {
      out << name << ": " << text.str();
    }
  }
  if (args.json) out << j.dump() << "\n";
  return status;
}

}  // namespace

int mailbox_command(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::string problem;
  auto args = parse_arguments(argc, argv, &problem);
  if (!args) {
    err << "mailbox: " << problem << "\n" << kUsage << "\n";
    return 2;
  }
  if (args->help) {
    out << kUsage << "\n";
    return 0;
  }
  try {
    if (!std::filesystem::is_directory(args->data_dir)) {
      err << "mailbox: no data directory " << args->data_dir << "\n";
      return 1;
    }
    if (args->command == "verify") return run_verify(*args, out, err);
    volume::PosixFileIo io;
    // The first healthy member's copy, as `postcore spool` reads it.
    args->member_root = spool::member_roots(args->data_dir).front();
    auto store = load(io, args->member_root);
    if (!store) {
      err << "mailbox: " << store.error().message << "\n";
      return 1;
    }
    if (args->command == "list") return run_list(io, *store, *args, out, err);
    if (args->command == "show") return run_show(io, *store, *args, out, err);
    return run_stats(*store, *args, out);
  } catch (const std::exception& e) {
    err << "mailbox: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace postcore::mailstore
