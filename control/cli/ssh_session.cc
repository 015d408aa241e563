#include "control/cli/ssh_session.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace postcore::cli {
namespace {

constexpr int kMaxAncestors = 16;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The parent of `pid` from /proc/PID/stat; the command name in parentheses may hold
// spaces and parentheses itself, so the fields are counted from the last ')'.
pid_t parent_of(pid_t pid) {
  const std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

}  // namespace

std::optional<std::string> server_address_of(std::string_view ssh_connection) {
  std::vector<std::string> fields;
  std::istringstream in{std::string(ssh_connection)};
  for (std::string field; in >> field;) fields.push_back(field);
  if (fields.size() != 4) return std::nullopt;
  return fields[2];
}

std::optional<std::string> ssh_connection_in(std::string_view environ_block) {
  constexpr std::string_view kName = "SSH_CONNECTION=";
  for (size_t start = 0; start < environ_block.size();) {
    size_t end = environ_block.find('\0', start);
    if (end == std::string_view::npos) end = environ_block.size();
    std::string_view entry = environ_block.substr(start, end - start);
    if (entry.substr(0, kName.size()) == kName) return std::string(entry.substr(kName.size()));
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> ssh_server_address() {
  if (const char* own = std::getenv("SSH_CONNECTION")) return server_address_of(own);
  pid_t pid = getppid();
  for (int i = 0; i < kMaxAncestors && pid > 1; i++) {
    if (auto found = ssh_connection_in(read_all("/proc/" + std::to_string(pid) + "/environ")))
      return server_address_of(*found);
    pid = parent_of(pid);
  }
  return std::nullopt;
}

}  // namespace postcore::cli
