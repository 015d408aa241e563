#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

#include "spool_test_support.h"

namespace postcore {
namespace {

struct KnownValue {
  std::string input;
  uint32_t crc;
};

TEST(Crc32c, KnownValues) {
  // RFC 3720 B.4 test vectors and the customary check value.
  const std::vector<KnownValue> cases = {
      {"", 0x00000000},
      {"123456789", 0xE3069283},
      {std::string(32, '\0'), 0x8A9136AA},
      {std::string(32, '\xff'), 0x62A8AB43},
  };
  std::string ascending, descending;
  for (int i = 0; i < 32; i++) {
    ascending += static_cast<char>(i);
    descending += static_cast<char>(31 - i);
  }
  for (const auto& c : cases) EXPECT_EQ(crc32c(c.input), c.crc) << c.input.size();
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32c, HardwareAndPortableAgreeAtEveryAlignmentAndLength) {
  const std::string data = spool::testing::make_body(100000, 7);
  const std::vector<size_t> lengths = {0,   1,   7,    8,     9,     255,   256,  767,
                                       768, 769, 4096, 24575, 24576, 24577, 99000};
  for (size_t offset = 0; offset < 16; offset++) {
    for (size_t len : lengths) {
      const uint32_t portable = crc32c_impl::extend_portable(0x12345678, data.data() + offset, len);
      EXPECT_EQ(crc32c_impl::extend_hardware(0x12345678, data.data() + offset, len), portable)
          << offset << "+" << len;
      EXPECT_EQ(crc32c_extend(0x12345678, data.data() + offset, len), portable);
    }
  }
}

TEST(Crc32c, ExtendEqualsWhole) {
  const std::string data = spool::testing::make_body(5000, 3);
  for (size_t split : {size_t{0}, size_t{1}, size_t{2500}, size_t{4999}, size_t{5000}}) {
    uint32_t crc = crc32c(data.data(), split);
    crc = crc32c_extend(crc, data.data() + split, data.size() - split);
    EXPECT_EQ(crc, crc32c(data)) << split;
  }
}

TEST(Crc32c, CombineEqualsWhole) {
  const std::string data = spool::testing::make_body(70000, 5);
  for (size_t split :
       {size_t{0}, size_t{1}, size_t{8}, size_t{4096}, size_t{69999}, size_t{70000}}) {
    std::string_view a(data.data(), split), b(data.data() + split, data.size() - split);
    EXPECT_EQ(crc32c_combine(crc32c(a), crc32c(b), b.size()), crc32c(data)) << split;
  }
}

}  // namespace
}  // namespace postcore
