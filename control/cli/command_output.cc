#include "control/cli/command_output.h"

#include <ctime>

namespace postcore::cli {
namespace {

using nlohmann::json;

std::string joined(const json& list, const char* separator) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += separator;
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

std::string utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_account(std::ostream& out, const json& a, bool one_line) {
  std::string services = a["services"].empty() ? "none" : joined(a["services"], ",");
  std::string quota = a["quota_kb"].get<uint64_t>() == 0
                          ? "unlimited"
                          : std::to_string(a["quota_kb"].get<uint64_t>()) + "K";
  if (one_line) {
    out << a["address"].get<std::string>() << "\t" << a["real_name"].get<std::string>() << "\t"
        << services << "\t" << quota << "\n";
    return;
  }
  out << "address:   " << a["address"].get<std::string>() << "\n"
      << "real name: " << a["real_name"].get<std::string>() << "\n"
      << "services:  " << services << "\n"
      << "quota:     " << quota << "\n"
      << "password:  " << (a["has_password"].get<bool>() ? "set" : "none") << "\n";
  if (a.contains("copies_to") && !a["copies_to"].empty())
    out << "copies to: " << joined(a["copies_to"], ", ") << "\n";
}

}  // namespace

void print_text(std::ostream& out, const std::string& command, const json& reply) {
  if (command == "domain.list") {
    for (const auto& d : reply) {
      out << d["name"].get<std::string>();
      if (!d["aliases"].empty()) out << "\t(also " << joined(d["aliases"], ", ") << ")";
      out << "\n";
    }
  } else if (command == "domain.show") {
    out << "domain:    " << reply["name"].get<std::string>() << "\n"
        << "aliases:   " << joined(reply["aliases"], ", ") << "\n"
        << "catch-all: " << reply["catch_all"].get<std::string>() << "\n";
  } else if (command == "account.list") {
    for (const auto& a : reply) print_account(out, a, true);
  } else if (command == "account.show") {
    print_account(out, reply, false);
  } else if (command == "alias.list") {
    for (const auto& a : reply)
      out << a["address"].get<std::string>() << " -> " << a["account"].get<std::string>() << "\n";
  } else if (command == "forwarder.list") {
    for (const auto& f : reply)
      out << f["address"].get<std::string>() << " -> " << f["target"].get<std::string>() << "\n";
  } else if (command == "group.list") {
    for (const auto& g : reply)
      out << g["address"].get<std::string>() << "\t" << g["members"].size() << " members\n";
  } else if (command == "group.show") {
    out << "group:     " << reply["address"].get<std::string>() << "\n"
        << "real name: " << reply["real_name"].get<std::string>() << "\n";
    for (const auto& m : reply["members"]) out << "member:    " << m.get<std::string>() << "\n";
  } else if (command == "relay.list") {
    for (const auto& n : reply) out << n.get<std::string>() << "\n";
  } else if (command == "audit") {
    for (const auto& e : reply)
      out << utc(e["time_ms"].get<int64_t>()) << "  uid " << e["uid"].get<uint64_t>() << "  "
          << e["action"].get<std::string>() << "  " << e["object"].get<std::string>()
          << (e["detail"].get<std::string>().empty() ? "" : "  " + e["detail"].get<std::string>())
          << "\n";
  } else if (command == "import.accounts" || command == "import.aliases") {
    out << reply["created"].get<uint64_t>() << " created, " << reply["updated"].get<uint64_t>()
        << " updated, " << reply["unchanged"].get<uint64_t>() << " unchanged"
        << (reply["dry_run"].get<bool>() ? " (dry run: nothing was changed)" : "") << "\n";
  } else if (command == "volume.status") {
    for (const auto& m : reply["members"]) {
      out << m["root"].get<std::string>() << "\t" << m["state"].get<std::string>()
          << "\tgeneration " << m["generation"].get<uint64_t>() << "\terrors "
          << m["errors"].get<uint64_t>() << "\trepaired " << m["repaired"].get<uint64_t>();
      if (!m["reason"].get<std::string>().empty()) out << "\t" << m["reason"].get<std::string>();
      if (m.contains("store")) {
        const auto& s = m["store"];
        out << "\tstore " << s["state"].get<std::string>();
        if (s["repaired"].get<uint64_t>() > 0) out << " repaired " << s["repaired"].get<uint64_t>();
        if (!s["reason"].get<std::string>().empty())
          out << " (" << s["reason"].get<std::string>() << ")";
      }
      out << "\n";
    }
    for (const char* activity : {"scrub", "resilver"})
      if (!reply[activity].get<std::string>().empty())
        out << activity << ": " << reply[activity].get<std::string>() << "\n";
  } else if (command == "volume.job") {
    out << "job " << reply["id"].get<uint64_t>() << ": " << reply["verb"].get<std::string>();
    if (!reply["member"].get<std::string>().empty())
      out << " " << reply["member"].get<std::string>();
    out << ": " << reply["state"].get<std::string>();
    if (!reply["outcome"].get<std::string>().empty())
      out << ": " << reply["outcome"].get<std::string>();
    out << "\n";
  } else if (command == "volume.replace" || command == "volume.add" || command == "volume.remove" ||
             command == "volume.scrub") {
    if (reply.contains("store"))
      out << "store: " << reply["store"]["pages"].get<uint64_t>() << " pages checked, "
          << reply["store"]["mended"].get<uint64_t>() << " copies mended, "
          << reply["store"]["unreadable"].get<uint64_t>() << " unreadable\n";
    const std::string what = command == "volume.scrub"
                                 ? std::string("spool scrub")
                                 : "resilver of " + reply["member"].get<std::string>();
    if (reply["state"] == "running")
      out << what << " started (job " << reply["id"].get<uint64_t>()
          << "); postcorectl volume status shows its progress\n";
    else if (reply["state"] == "queued")
      out << what << " queued (job " << reply["id"].get<uint64_t>() << ") behind job "
          << reply["behind"].get<uint64_t>() << ", which the dataplane is running\n";
    else
      out << reply["outcome"].get<std::string>() << "\n";
  } else if (command == "ip.list") {
    for (const auto& a : reply) {
      out << a["address"].get<std::string>() << "/" << a["prefix"].get<int>() << "\tdev "
          << a["interface"].get<std::string>() << "\t" << a["state"].get<std::string>();
      if (!a["actual"].get<std::string>().empty())
        out << " (on the system: " << a["actual"].get<std::string>() << ")";
      if (!a["label"].get<std::string>().empty())
        out << "\tlabel " << a["label"].get<std::string>();
      if (!a["domain"].get<std::string>().empty())
        out << "\tdomain " << a["domain"].get<std::string>();
      if (!a["services"].empty()) out << "\tservices " << joined(a["services"], ",");
      out << "\n";
    }
  } else if (command == "ip.add") {
    out << reply["address"].get<std::string>() << "/" << reply["prefix"].get<int>() << " added on "
        << reply["interface"].get<std::string>();
    if (reply["announced"].get<bool>()) out << "; neighbours told";
    if (reply.contains("announce_error"))
      out << "; neighbours not told: " << reply["announce_error"].get<std::string>();
    out << "\n";
  } else if (command == "ip.remove") {
    out << reply["address"].get<std::string>() << " removed from "
        << reply["interface"].get<std::string>() << "\n";
  } else if (command == "ip.sync") {
    for (const auto& a : reply["actions"])
      out << a["action"].get<std::string>() << " " << a["address"].get<std::string>() << " on "
          << a["interface"].get<std::string>() << "\n";
    if (reply["actions"].empty()) out << "the system matches the configuration\n";
  } else if (command == "status") {
    for (auto it = reply.begin(); it != reply.end(); ++it)
      out << it.key() << ": " << it.value().dump() << "\n";
  }
}

}  // namespace postcore::cli
