#include "common/log.h"

#include <ctime>

#include <unistd.h>

#include <atomic>
#include <string>

namespace postcore::log {
namespace {
std::atomic<Level> g_level{Level::info};
}

void set_level(Level l) {
  g_level.store(l, std::memory_order_relaxed);
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view name, Level* out) {
  if (name == "error")
    *out = Level::error;
  else if (name == "warning" || name == "warn")
    *out = Level::warning;
  else if (name == "info")
    *out = Level::info;
  else if (name == "debug")
    *out = Level::debug;
  else
    return false;
  return true;
}

void write(Level l, std::string_view component, std::string_view message) {
  // One write(2) per line so lines from several threads and processes never interleave.
  std::string line = fmt::format("<{}>{}: {}\n", static_cast<int>(l), component, message);
  for (size_t done = 0; done < line.size();) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

}  // namespace postcore::log

namespace postcore {

std::string iso_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace postcore
