#include "queue/spool/spool_cli.h"
#include "common/log.h"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "queue/spool/spool_reader.h"
#include "queue/spool/spool_scrub.h"
#include "queue/volume/posix_file_io.h"
#include "queue/volume/volume_set.h"

namespace postcore::spool {
namespace {

constexpr std::string_view kUsage =
    "usage: postcore spool list [--content] | show ID [--raw] | verify [--repair] "
    "[--data-dir DIR] [--json]";

struct Arguments {
  std::string command;
  std::string queue_id;
  std::string data_dir = "./var";
  bool json = false;
  bool raw = false;      // show: the message content alone, byte for byte
  bool content = false;  // list --json: every message's content too
  bool repair = false;   // verify: first mend damaged copies from good ones (stopped only)
  bool help = false;
};

std::optional<Arguments> parse_arguments(int argc, char** argv, std::string* problem) {
  Arguments args;
  std::vector<std::string_view> positional;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--json") {
      args.json = true;
    } else if (arg == "--raw") {
      args.raw = true;
    } else if (arg == "--content") {
      args.content = true;
    } else if (arg == "--repair") {
      args.repair = true;
    } else if (arg == "-h" || arg == "--help") {
      args.help = true;
    } else if (arg == "--data-dir") {
      if (i + 1 >= argc) {
        *problem = "--data-dir needs a directory";
        return std::nullopt;
      }
      args.data_dir = argv[++i];
    } else if (arg.starts_with("--data-dir=")) {
      args.data_dir = std::string(arg.substr(11));
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
  const size_t expected = args.command == "show" ? 2 : 1;
  if (args.command != "list" && args.command != "show" && args.command != "verify") {
    *problem = "unknown command " + args.command;
    return std::nullopt;
  }
  if (positional.size() != expected) {
    *problem = args.command == "show" ? "show needs exactly one queue id"
                                      : args.command + " takes no arguments";
    return std::nullopt;
  }
  if (expected == 2) args.queue_id = positional[1];
  if (args.raw && (args.command != "show" || args.json)) {
    *problem = "--raw goes with show, without --json";
    return std::nullopt;
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

std::string_view body_name(BodyType body) {
  switch (body) {
    case BodyType::seven_bit:
      return "7BIT";
    case BodyType::eight_bit_mime:
      return "8BITMIME";
    case BodyType::binary_mime:
      return "BINARYMIME";
    case BodyType::unspecified:
      break;
  }
  return "";
}

std::string_view ret_name(DsnRet ret) {
  switch (ret) {
    case DsnRet::full:
      return "FULL";
    case DsnRet::hdrs:
      return "HDRS";
    case DsnRet::unspecified:
      break;
  }
  return "";
}

const char* target_kind(const DeliveryTarget& t) {
  return t.kind == DeliveryTarget::remote ? "remote" : "local";
}

// " -> a, b" for a recipient the directory expanded, nothing otherwise.
std::string targets_text(const Recipient& r) {
  std::string text;
  for (size_t i = 0; i < r.targets.size(); i++) {
    text += i == 0 ? " -> " : ", ";
    text += r.targets[i].address;
  }
  return text;
}

std::string notify_text(uint8_t notify) {
  if (notify == 0) return "";
  if (notify & notify_never) return "NEVER";
  std::string out;
  auto add = [&](uint8_t bit, std::string_view name) {
    if (!(notify & bit)) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(notify_success, "SUCCESS");
  add(notify_failure, "FAILURE");
  add(notify_delay, "DELAY");
  return out;
}

// Structure only (lead and continuation bytes): enough to choose between a JSON string
// and base64; the JSON encoder replaces anything subtler.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c >> 5) == 0x6) {
      extra = 1;
    } else if ((c >> 4) == 0xE) {
      extra = 2;
    } else if ((c >> 3) == 0x1E) {
      extra = 3;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; k++) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

nlohmann::json listing_json(const ListedMessage& m, bool full) {
  nlohmann::json j;
  j["queue_id"] = m.queue_id;
  j["shard"] = m.shard;
  j["file"] = m.file;
  j["offset"] = m.offset;
  j["size"] = m.size;
  if (!m.envelope) {
    j["problem"] = m.problem;
    return j;
  }
  const Envelope& e = *m.envelope;
  j["received_at"] = e.received_at;
  j["received"] = iso_time(e.received_at);
  j["mail_from"] = e.mail_from;
  j["client_address"] = e.client_address;
  if (full) {
    j["helo"] = e.helo;
    j["esmtp"] = e.esmtp;
    j["declared_size"] = e.declared_size;
    j["body"] = body_name(e.body);
    j["smtputf8"] = e.smtputf8;
    j["ret"] = ret_name(e.ret);
    j["envid"] = e.envid;
    j["auth_user"] = e.auth_user;
  }
  nlohmann::json recipients = nlohmann::json::array();
  for (size_t i = 0; i < e.recipients.size(); i++) {
    nlohmann::json r;
    r["address"] = e.recipients[i].address;
    r["done"] = m.done.test(static_cast<uint32_t>(i));
    nlohmann::json targets = nlohmann::json::array();
    for (const DeliveryTarget& t : e.recipients[i].targets) {
      nlohmann::json target = {{"kind", target_kind(t)}, {"address", t.address}};
      if (t.implicit) target["implicit"] = true;
      targets.push_back(std::move(target));
    }
    r["targets"] = std::move(targets);
    if (full) {
      r["notify"] = notify_text(e.recipients[i].notify);
      r["orcpt"] = e.recipients[i].orcpt;
    }
    recipients.push_back(std::move(r));
  }
  j["recipients"] = std::move(recipients);
  return j;
}

// JSON strings must be UTF-8: other content travels as base64.
void add_content(nlohmann::json& j, const std::string& content) {
  if (valid_utf8(content)) {
    j["content"] = content;
  } else {
    j["content_base64"] = base64(content);
  }
}

std::string dump(const nlohmann::json& j) {
  // Addresses are not guaranteed to be UTF-8: replace what is not rather than fail.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Where the spool's files are: on a mirrored volume set, in each healthy member the
// dataplane lists in DATA/volume.status (every healthy member holds the same files);
// without one, in the data directory.
// The volume set's members as the dataplane last reported them; none without a report.
std::vector<volume::MemberStatus> listed_members(const std::string& data_dir) {
  std::ifstream in(data_dir + "/volume.status");
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  auto members = volume::parse_volume_status(text.str());
  return members ? std::move(*members) : std::vector<volume::MemberStatus>{};
}

int run_list(SpoolReader& reader, const Arguments& args, std::ostream& out, std::ostream& err) {
  auto messages = reader.list(args.content);
  if (!messages) {
    err << "spool: " << messages.error().message << "\n";
    return 1;
  }
  int status = 0;
  uint64_t bytes = 0;
  nlohmann::json array = nlohmann::json::array();
  for (const ListedMessage& m : *messages) {
    bytes += m.size;
    if (!m.envelope) status = 1;
    if (args.json) {
      nlohmann::json j = listing_json(m, true);
      if (m.content) add_content(j, *m.content);
      array.push_back(std::move(j));
      continue;
    }
    if (!m.envelope) {
      out << fmt::format("{} {:>10}  DAMAGED: {}\n", m.queue_id, m.size, m.problem);
      continue;
    }
    const Envelope& e = *m.envelope;
    out << fmt::format("{} {:>10}  {}  <{}>\n", m.queue_id, m.size, iso_time(e.received_at),
                       e.mail_from);
    for (size_t i = 0; i < e.recipients.size(); i++) {
      out << fmt::format("    {}{}{}\n", e.recipients[i].address,
                         m.done.test(static_cast<uint32_t>(i)) ? " (done)" : "",
                         targets_text(e.recipients[i]));
    }
  }
  if (args.json) {
    nlohmann::json j;
    j["messages"] = std::move(array);
    j["count"] = messages->size();
    j["bytes"] = bytes;
    out << dump(j) << "\n";
  } else {
    out << fmt::format("-- {} messages, {} bytes\n", messages->size(), bytes);
  }
  return status;
}

int run_show(SpoolReader& reader, const Arguments& args, std::ostream& out, std::ostream& err) {
  auto shown = reader.show(args.queue_id);
  if (!shown) {
    err << "spool: " << shown.error().message << "\n";
    return 1;
  }
  const ListedMessage& m = shown->listing;
  const Envelope& e = *m.envelope;
  if (args.raw) {
    out << shown->content;
    return 0;
  }
  if (args.json) {
    nlohmann::json j = listing_json(m, true);
    add_content(j, shown->content);
    out << dump(j) << "\n";
    return 0;
  }
  out << fmt::format("queue id:  {}\n", m.queue_id);
  out << fmt::format("location:  {} offset {}\n", m.file, m.offset);
  out << fmt::format("size:      {}\n", m.size);
  out << fmt::format("received:  {} from {} (HELO {}, {})\n", iso_time(e.received_at),
                     e.client_address, e.helo, e.esmtp ? "ESMTP" : "SMTP");
  out << fmt::format("sender:    <{}>", e.mail_from);
  if (e.declared_size) out << " SIZE=" << e.declared_size;
  if (e.body != BodyType::unspecified) out << " BODY=" << body_name(e.body);
  if (e.smtputf8) out << " SMTPUTF8";
  if (e.ret != DsnRet::unspecified) out << " RET=" << ret_name(e.ret);
  if (!e.envid.empty()) out << " ENVID=" << e.envid;
  out << "\n";
  if (!e.auth_user.empty()) out << fmt::format("auth user: {}\n", e.auth_user);
  for (size_t i = 0; i < e.recipients.size(); i++) {
    const Recipient& r = e.recipients[i];
    out << fmt::format("recipient: <{}>", r.address);
    if (r.notify) out << " NOTIFY=" << notify_text(r.notify);
    if (!r.orcpt.empty()) out << " ORCPT=" << r.orcpt;
    if (m.done.test(static_cast<uint32_t>(i))) out << " (done)";
    out << "\n";
    for (const DeliveryTarget& t : r.targets) {
      out << fmt::format("  -> {} {}{}\n", target_kind(t), t.address,
                         t.implicit ? " (implicit)" : "");
    }
  }
  out << "\n" << shown->content;
  return 0;
}

// One copy of the spool verified: its report as JSON and as text, and whether it is clean.
struct Verified {
  nlohmann::json json;
  std::string text;
  bool ok = false;
};

Result<Verified> verify_copy(SpoolReader& reader) {
  auto report = reader.verify();
  if (!report) return report.error();
  Verified v;
  v.ok = report->problems.empty();
  v.json["ok"] = v.ok;
  v.json["shards"] = report->shards;
  v.json["segments"] = report->segments;
  v.json["records"] = report->records;
  v.json["messages"] = report->messages;
  v.json["bytes"] = report->bytes;
  v.json["tail_bytes"] = report->tail_bytes;
  nlohmann::json problems = nlohmann::json::array();
  for (const VerifyProblem& p : report->problems) {
    problems.push_back(
        {{"file", p.file}, {"offset", p.offset}, {"length", p.length}, {"what", p.what}});
  }
  v.json["problems"] = std::move(problems);
  v.text = fmt::format("verified {} shards, {} segments, {} records, {} messages, {} bytes\n",
                       report->shards, report->segments, report->records, report->messages,
                       report->bytes);
  if (report->tail_bytes) {
    v.text += fmt::format(
        "{} bytes past the last complete record (being written, or torn by a "
        "crash) were ignored\n",
        report->tail_bytes);
  }
  for (const VerifyProblem& p : report->problems)
    v.text += fmt::format("{}:{}: {} ({} bytes)\n", p.file, p.offset, p.what, p.length);
  v.text += v.ok ? "ok\n" : fmt::format("{} problems\n", report->problems.size());
  return v;
}

// Every copy of the spool: on a mirrored volume set, each healthy member's.
}  // namespace

std::vector<std::string> member_roots(const std::string& data_dir) {
  std::vector<std::string> roots;
  for (const auto& m : listed_members(data_dir))
    if (m.state == volume::MemberState::healthy) roots.push_back(m.root);
  if (roots.empty()) roots.push_back(data_dir);
  return roots;
}

int verify_tree(const std::string& data_dir, const std::string& subdir, bool json,
                std::string_view who, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> roots = member_roots(data_dir);
  bool all_ok = true;
  nlohmann::json members = nlohmann::json::array();
  for (const std::string& root : roots) {
    volume::PosixFileIo io;
    SpoolReader reader = SpoolReader::at_root(io, root + "/" + subdir);
    auto v = verify_copy(reader);
    if (!v) {
      err << who << ": " << v.error().message << "\n";
      return 1;
    }
    all_ok = all_ok && v->ok;
    if (!v->ok) err << who << ": corruption found in " << reader.spool_dir() << "\n";
    if (roots.size() == 1) {
      if (json)
        out << dump(v->json) << "\n";
      else
        out << v->text;
      return v->ok ? 0 : 1;
    }
    v->json["root"] = root;
    members.push_back(std::move(v->json));
    if (!json) out << "member " << root << ":\n" << v->text;
  }
  if (json) out << dump(nlohmann::json{{"ok", all_ok}, {"members", std::move(members)}}) << "\n";
  return all_ok ? 0 : 1;
}

int repair_trees(const std::string& data_dir, const std::vector<std::string>& subdirs,
                 std::string_view who, std::ostream& out, std::ostream& err) {
  const std::string lock_path = data_dir + "/postcore.lock";

  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock < 0) {
    err << who << ": " << lock_path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  UniqueFd unlock(lock);
  if (::flock(lock, LOCK_EX | LOCK_NB) < 0) {
    err << "spool: the appliance is running on " << data_dir
        << ": stop it first, or mend online with postcorectl volume scrub\n";
    return 1;
  }
  std::vector<std::string> roots;
  for (const auto& m : listed_members(data_dir)) roots.push_back(m.root);
  if (roots.size() < 2) {
    out << "one copy of the data: nothing to mend from\n";
    return 0;
  }
  auto set = volume::VolumeSet::open(data_dir, roots, data_dir + "/volume.status");
  if (!set) {
    err << who << ": " << set.error().message << "\n";
    return 1;
  }
  ScrubOptions options;
  options.bytes_per_second = ~uint64_t{0};  // the appliance is stopped: nothing to yield to
  ScrubReport r = scrub_trees(**set, subdirs, options);
  out << fmt::format(
      "mended: {} files compared, {} bytes read, {} mismatched, {} repaired, {} "
      "unrepaired\n",
      r.files, r.bytes, r.mismatches, r.repaired, r.unrepaired.size());
  for (const std::string& problem : r.unrepaired)
    err << who << ": cannot mend: " << problem << "\n";
  return r.unrepaired.empty() ? 0 : 1;
}

int spool_command(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::string problem;
  auto args = parse_arguments(argc, argv, &problem);
  if (!args) {
    err << "spool: " << problem << "\n" << kUsage << "\n";
    return 2;
  }
  if (args->help) {
    out << kUsage << "\n";
    return 0;
  }
  // Keeps exceptions from JSON encoding or allocation inside this entry point.
  try {
    if (!std::filesystem::is_directory(args->data_dir)) {
      err << "spool: no data directory " << args->data_dir << "\n";
      return 1;
    }
    if (args->command == "verify" && args->repair) {
      // With --json the mending report goes to stderr: stdout stays one JSON document.
      if (int r = repair_trees(args->data_dir, {"spool"}, "spool", args->json ? err : out, err);
          r != 0)
        return r;
    }
    if (args->command == "verify")
      return verify_tree(args->data_dir, "spool", args->json, "spool", out, err);
    const std::vector<std::string> roots = member_roots(args->data_dir);
    volume::PosixFileIo io;
    SpoolReader reader(io, roots.front());
    if (args->command == "list") return run_list(reader, *args, out, err);
    return run_show(reader, *args, out, err);
  } catch (const std::exception& e) {
    err << "spool: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace postcore::spool
