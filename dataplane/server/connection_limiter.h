// ConnectionLimiter: the connection limits (in total, per client address) shared by
// every core. The only state the reactors share: with SO_REUSEPORT one client's
// connections land on any core, so a per-core count cannot enforce a per-client limit.
// Addresses hash into a fixed table of atomic counters; a collision can only make the
// limit stricter for the two colliding addresses, never looser.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace postcore::server {

class ConnectionLimiter {
 public:
  ConnectionLimiter(uint32_t max_total, uint32_t max_per_client);

  enum class Verdict { admitted, too_many_total, too_many_from_client };
  // On `admitted` the caller must call release() with the same address exactly once.
  Verdict acquire(std::string_view client_address);
  void release(std::string_view client_address);

 private:
  static constexpr size_t kSlots = 1 << 16;
  size_t slot_of(std::string_view address) const;

  const uint32_t max_total_, max_per_client_;
  std::atomic<uint32_t> total_{0};
  std::unique_ptr<std::atomic<uint32_t>[]> per_client_;
};

}  // namespace postcore::server
