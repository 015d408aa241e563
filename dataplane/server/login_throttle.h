// LoginThrottle: counts failed logins per client address and per account, for every
// service, and says how long the next login answer must wait and whether an address is
// refused outright (AuthSettings in common/profile.h has the rules and their settings).
//
// A client address is the IP; an IPv6 address counts by its /64, the block one host
// usually holds. An account's count slows its logins down but never refuses them: an
// attacker can make a user wait, not lock the user out. A successful login clears both
// counts it touched. Both tables are bounded (tracked_logins): when one is full, entries
// whose failures are forgotten go first, then those below the delay threshold; an address
// or account that still finds no room is not tracked (logged once per filling).
//
// Threads: every method from any thread; time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/profile.h"

namespace postcore::server {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Verdict {
    bool refuse = false;                 // answer a temporary failure without checking
    std::chrono::milliseconds delay{0};  // how long the answer waits
  };

  explicit LoginThrottle(const AuthSettings& settings);

  // Before a login is checked. `login` as the client typed it (compared without case).
  Verdict before(std::string_view client_address, std::string_view login, Clock::time_point now);
  // True when this failure is the one from which the address is refused.
  bool failed(std::string_view client_address, std::string_view login, Clock::time_point now);
  void succeeded(std::string_view client_address, std::string_view login);

  // The key a client address counts under (exposed for tests).
  static std::string address_key(std::string_view client_address);

 private:
  struct Entry {
    uint32_t failures = 0;
    Clock::time_point last{};
  };
  using Table = std::unordered_map<std::string, Entry>;

  uint32_t failures(const Table& table, const std::string& key, Clock::time_point now) const;
  uint32_t count(Table& table, std::string key, Clock::time_point now);  // the new count
  bool make_room(Table& table, Clock::time_point now);                   // caller holds mutex_

  const AuthSettings settings_;
  std::mutex mutex_;
  Table addresses_;  // guarded by mutex_
  Table accounts_;   // guarded by mutex_
  bool full_logged_ = false;
};

}  // namespace postcore::server
