// CRC-32C in two implementations: the SSE4.2 crc32 instruction (three interleaved
// streams, because the instruction has a latency of three cycles but a throughput of
// one) and a slicing-by-8 table fallback for CPUs without it. The hardware function is
// compiled for SSE4.2 with a target attribute rather than a file-wide -msse4.2, so the
// compiler cannot slip SSE4 instructions into the fallback that must run without them.
//
// The GF(2) arithmetic (multmodp, x2nmodp) follows zlib's crc32_combine: a CRC register
// advanced over n zero bytes is the register times x^(8n) modulo the polynomial.
#include "common/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace postcore {
namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // Castagnoli, bit-reflected

// a * b modulo the polynomial, both in reflected representation.
constexpr uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(2^n) modulo the polynomial for n = 0..31.
constexpr std::array<uint32_t, 32> make_x2n_table() {
  std::array<uint32_t, 32> table{};
  uint32_t p = 1u << 30;  // x^1
  table[0] = p;
  for (int n = 1; n < 32; n++) table[n] = p = multmodp(p, p);
  return table;
}
constexpr std::array<uint32_t, 32> kX2n = make_x2n_table();

// x^(n * 2^k) modulo the polynomial.
constexpr uint32_t x2nmodp(uint64_t n, unsigned k) {
  uint32_t p = 1u << 31;  // x^0
  while (n) {
    if (n & 1) p = multmodp(kX2n[k & 31], p);
    n >>= 1;
    k++;
  }
  return p;
}

using SliceTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr SliceTables make_slice_tables() {
  SliceTables t{};
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    for (int k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
}
constexpr SliceTables kSlice = make_slice_tables();

// Tables that advance a raw CRC register over `len` zero bytes, one byte of the
// register at a time; used to glue the three interleaved streams back together.
using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTable make_shift_table(uint64_t len) {
  ShiftTable t{};
  const uint32_t op = x2nmodp(len, 3);
  for (uint32_t n = 0; n < 256; n++) {
    for (int k = 0; k < 4; k++) t[k][n] = multmodp(op, n << (8 * k));
  }
  return t;
}

[[maybe_unused]] constexpr size_t kLongBlock = 8192;
[[maybe_unused]] constexpr size_t kShortBlock = 256;

#if defined(__x86_64__)
constexpr ShiftTable kShiftLong = make_shift_table(kLongBlock);
constexpr ShiftTable kShiftShort = make_shift_table(kShortBlock);

inline uint32_t shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Three independent crc32 chains over consecutive blocks of `block` bytes each.
__attribute__((target("sse4.2"))) inline uint64_t crc_three_way(uint64_t c0, const unsigned char* p,
                                                                size_t block,
                                                                const ShiftTable& table) {
  uint64_t c1 = 0;
  uint64_t c2 = 0;
  for (size_t i = 0; i < block; i += 8) {
    c0 = _mm_crc32_u64(c0, load64(p + i));
    c1 = _mm_crc32_u64(c1, load64(p + block + i));
    c2 = _mm_crc32_u64(c2, load64(p + 2 * block + i));
  }
  c0 = shift(table, static_cast<uint32_t>(c0)) ^ c1;
  return shift(table, static_cast<uint32_t>(c0)) ^ c2;
}
#endif

using ExtendFn = uint32_t (*)(uint32_t, const void*, size_t);

ExtendFn choose_extend() {
  return crc32c_impl::hardware_available() ? crc32c_impl::extend_hardware
                                           : crc32c_impl::extend_portable;
}

}  // namespace

namespace crc32c_impl {

bool hardware_available() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

uint32_t extend_portable(uint32_t crc, const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (len >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    word ^= c;
    c = kSlice[7][word & 0xff] ^ kSlice[6][(word >> 8) & 0xff] ^ kSlice[5][(word >> 16) & 0xff] ^
        kSlice[4][(word >> 24) & 0xff] ^ kSlice[3][(word >> 32) & 0xff] ^
        kSlice[2][(word >> 40) & 0xff] ^ kSlice[1][(word >> 48) & 0xff] ^ kSlice[0][word >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) c = (c >> 8) ^ kSlice[0][(c ^ *p++) & 0xff];
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_hardware(uint32_t crc, const void* data,
                                                           size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  while (len && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    len--;
  }
  while (len >= 3 * kLongBlock) {
    c = crc_three_way(c, p, kLongBlock, kShiftLong);
    p += 3 * kLongBlock;
    len -= 3 * kLongBlock;
  }
  while (len >= 3 * kShortBlock) {
    c = crc_three_way(c, p, kShortBlock, kShiftShort);
    p += 3 * kShortBlock;
    len -= 3 * kShortBlock;
  }
  while (len >= 8) {
    c = _mm_crc32_u64(c, load64(p));
    p += 8;
    len -= 8;
  }
  while (len--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}
#else
uint32_t extend_hardware(uint32_t crc, const void* data, size_t len) {
  return extend_portable(crc, data, len);
}
#endif

}  // namespace crc32c_impl

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t len) {
  static const ExtendFn extend = choose_extend();
  return extend(crc, data, len);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  return multmodp(x2nmodp(len_b, 3), crc_a) ^ crc_b;
}

}  // namespace postcore
