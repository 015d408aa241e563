// CRC-32C (Castagnoli), the checksum of every record postcore stores.
//
// Values are the standard pre- and post-inverted CRC-32C (crc32c("123456789") ==
// 0xE3069283), so a CRC can be computed in pieces with crc32c_extend and glued from
// independently computed pieces with crc32c_combine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace postcore {

// CRC of `len` bytes appended to data whose CRC is `crc` (0 for the empty string).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t len);

inline uint32_t crc32c(const void* data, size_t len) {
  return crc32c_extend(0, data, len);
}
inline uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

// CRC of A+B given crc(A), crc(B) and the length of B, without touching the bytes.
// Lets the spool derive a whole message's CRC from its chunk CRCs.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

// Both implementations, exposed so that tests can check them against each other and
// benchmarks can measure each. crc32c_extend picks one at start-up.
namespace crc32c_impl {
bool hardware_available();
uint32_t extend_portable(uint32_t crc, const void* data, size_t len);
uint32_t extend_hardware(uint32_t crc, const void* data, size_t len);  // needs SSE4.2
}  // namespace crc32c_impl

}  // namespace postcore
