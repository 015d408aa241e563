// One line per event on stderr, journald-friendly: "<N>component: message" where N is
// the syslog priority, so journald files each line at the right level.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace postcore {

// Text safe to quote in a one-line message or log line: control and non-ASCII bytes as
// \xNN, so input from the network can neither break a line nor forge another.
std::string printable(std::string_view text);

// "2026-12-08T01:02:03Z": seconds since the epoch as ISO 8601 in UTC.
std::string iso_time(int64_t unix_seconds);

}  // namespace postcore

namespace postcore::log {

enum class Level { error = 3, warning = 4, info = 6, debug = 7 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view name, Level* out);
void write(Level level, std::string_view component, std::string_view message);

template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::error)
    write(Level::error, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::warning)
    write(Level::warning, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::info)
    write(Level::info, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::debug)
    write(Level::debug, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace postcore::log
