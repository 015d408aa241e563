#include "dataplane/server/login_throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace postcore::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

LoginThrottle::LoginThrottle(const AuthSettings& settings) : settings_(settings) {}

std::string LoginThrottle::address_key(std::string_view client_address) {
  const std::string text(client_address);
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    const bool mapped_v4 = IN6_IS_ADDR_V4MAPPED(&v6);
    if (!mapped_v4) {
      std::memset(v6.s6_addr + 8, 0, 8);  // the /64
      char out[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, &v6, out, sizeof(out));
      return std::string(out) + "/64";
    }
    char out[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, v6.s6_addr + 12, out, sizeof(out));
    return out;
  }
  return text;
}

uint32_t LoginThrottle::failures(const Table& table, const std::string& key,
                                 Clock::time_point now) const {
  auto it = table.find(key);
  if (it == table.end() || now - it->second.last > settings_.failure_memory) return 0;
  return it->second.failures;
}

LoginThrottle::Verdict LoginThrottle::before(std::string_view client_address,
                                             std::string_view login, Clock::time_point now) {
  const std::string address = address_key(client_address);
  const std::string account = lower(login);
  std::lock_guard lock(mutex_);
  const uint32_t by_address = failures(addresses_, address, now);
  const uint32_t by_account = failures(accounts_, account, now);
  Verdict v;
  v.refuse = by_address >= settings_.failures_before_refusal;
  const uint32_t n = std::max(by_address, by_account);
  if (n >= settings_.failures_before_delay) {
    // 1 s at the threshold, doubling per further failure, up to the setting.
    const uint32_t doublings = std::min<uint32_t>(n - settings_.failures_before_delay, 20);
    v.delay = std::min(settings_.max_login_delay,
                       std::chrono::milliseconds(1000) * (int64_t{1} << doublings));
  }
  return v;
}

bool LoginThrottle::failed(std::string_view client_address, std::string_view login,
                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  count(accounts_, lower(login), now);
  return count(addresses_, address_key(client_address), now) == settings_.failures_before_refusal;
}

void LoginThrottle::succeeded(std::string_view client_address, std::string_view login) {
  std::lock_guard lock(mutex_);
  addresses_.erase(address_key(client_address));
  accounts_.erase(lower(login));
}

uint32_t LoginThrottle::count(Table& table, std::string key, Clock::time_point now) {
  auto it = table.find(key);
  if (it == table.end()) {
    if (table.size() >= settings_.tracked_logins && !make_room(table, now)) return 0;
    it = table.emplace(std::move(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (now - e.last > settings_.failure_memory) e.failures = 0;
  e.failures++;
  e.last = now;
  return e.failures;
}

bool LoginThrottle::make_room(Table& table, Clock::time_point now) {
  std::erase_if(table, [&](const auto& kv) {
    return now - kv.second.last > settings_.failure_memory ||
           kv.second.failures < settings_.failures_before_delay;
  });
  if (table.size() < settings_.tracked_logins) {
    full_logged_ = false;
    return true;
  }
  if (!full_logged_) {
    log::warning("auth",
                 "{} addresses or accounts with failed logins are tracked already "
                 "([auth] tracked_logins); new ones are not counted until some are forgotten",
                 table.size());
    full_logged_ = true;
  }
  return false;
}

}  // namespace postcore::server
