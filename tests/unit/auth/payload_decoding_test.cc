// Strict base64 and hex decoding of stored digests.
#include "control/auth/payload_decoding.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace postcore::auth {
namespace {

struct DecodeCase {
  std::string text;
  std::optional<std::string> bytes;
};

TEST(PayloadDecodingTest, Base64) {
  // Expected bytes from RFC 4648 section 10 and python3's base64.b64decode.
  const std::vector<DecodeCase> cases = {
      {"", std::string()},
      {"Zg==", std::string("f")},
      {"Zm8=", std::string("fo")},
      {"Zm9v", std::string("foo")},
      {"Zm9vYg==", std::string("foob")},
      {"Zm9vYmE=", std::string("fooba")},
      {"Zm9vYmFy", std::string("foobar")},
      {"Zg", std::string("f")},    // padding left out
      {"Zm8", std::string("fo")},  // padding left out
      {"+/+/", std::string("\xfb\xff\xbf", 3)},
      {"AAE=", std::string("\x00\x01", 2)},
      {"Z", std::nullopt},  // 6 bits cannot make a byte
      {"Zm9vY", std::nullopt},
      {"Zh", std::nullopt},   // pad bits set: "f" has one encoding, "Zg"
      {"Zg=", std::nullopt},  // padding that does not complete the quantum
      {"Zg===", std::nullopt},
      {"Z=g=", std::nullopt},    // padding in the middle
      {"Zm9v\n", std::nullopt},  // no whitespace
      {" Zm9v", std::nullopt},
      {"Zm-v", std::nullopt},  // the URL-safe alphabet is another encoding
      {"Zm_v", std::nullopt},
      {"====", std::nullopt},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(decode_base64(c.text), c.bytes);
  }
}

TEST(PayloadDecodingTest, Hex) {
  const std::vector<DecodeCase> cases = {
      {"", std::string()},
      {"00ff", std::string("\x00\xff", 2)},
      {"DEADbeef", std::string("\xde\xad\xbe\xef")},
      {"0", std::nullopt},
      {"0g", std::nullopt},
      {"0x00", std::nullopt},
      {"00 ", std::nullopt},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(decode_hex(c.text), c.bytes);
  }
}

}  // namespace
}  // namespace postcore::auth
