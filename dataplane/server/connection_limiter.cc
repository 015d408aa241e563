#include "dataplane/server/connection_limiter.h"

#include <functional>

namespace postcore::server {

ConnectionLimiter::ConnectionLimiter(uint32_t max_total, uint32_t max_per_client)
    : max_total_(max_total),
      max_per_client_(max_per_client),
      per_client_(std::make_unique<std::atomic<uint32_t>[]>(kSlots)) {}

size_t ConnectionLimiter::slot_of(std::string_view address) const {
  return std::hash<std::string_view>{}(address) & (kSlots - 1);
}

ConnectionLimiter::Verdict ConnectionLimiter::acquire(std::string_view client_address) {
  if (total_.fetch_add(1, std::memory_order_relaxed) >= max_total_) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::too_many_total;
  }
  auto& slot = per_client_[slot_of(client_address)];
  if (slot.fetch_add(1, std::memory_order_relaxed) >= max_per_client_) {
    slot.fetch_sub(1, std::memory_order_relaxed);
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::too_many_from_client;
  }
  return Verdict::admitted;
}

void ConnectionLimiter::release(std::string_view client_address) {
  per_client_[slot_of(client_address)].fetch_sub(1, std::memory_order_relaxed);
  total_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace postcore::server
