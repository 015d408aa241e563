#include "control/api/frame.h"

#include <gtest/gtest.h>

namespace postcore::api {
namespace {

TEST(Frame, RoundTrip) {
  nlohmann::json j = {{"cmd", "domain.add"}, {"args", {{"name", "example.com"}}}};
  auto back = decode_frame(encode_frame(j));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, j);
}

TEST(Frame, EveryTruncationIsRefused) {
  std::string f = encode_frame({{"cmd", "status"}});
  for (size_t n = 0; n < f.size(); ++n) {
    auto r = decode_frame(std::string_view(f).substr(0, n));
    EXPECT_FALSE(r) << "prefix of " << n << " bytes accepted";
  }
}

TEST(Frame, TrailingBytesAreRefused) {
  std::string f = encode_frame({{"cmd", "status"}});
  auto r = decode_frame(f + "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "1 trailing bytes after the frame");
}

struct BadBody {
  std::string body;  // after the version byte
  const char* message;
};

class FrameBodies : public testing::TestWithParam<BadBody> {};

TEST_P(FrameBodies, AreRefusedWithAReason) {
  std::string payload = std::string(1, static_cast<char>(kProtocolVersion)) + GetParam().body;
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string f = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                   static_cast<char>(n >> 8), static_cast<char>(n)};
  auto r = decode_frame(f + payload);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(Table, FrameBodies,
                         testing::Values(BadBody{"", "frame body is not one JSON object"},
                                         BadBody{"[1,2]", "frame body is not one JSON object"},
                                         BadBody{"{\"a\":1} ", "frame body is not one JSON object"},
                                         BadBody{"{\"a\":1}{\"b\":2}",
                                                 "frame body is not valid JSON"},
                                         BadBody{"{\"a\":}", "frame body is not valid JSON"},
                                         BadBody{"\"x\"", "frame body is not one JSON object"}));

TEST(Frame, UnknownVersionIsRefused) {
  std::string f = encode_frame({{"cmd", "status"}});
  f[4] = 9;
  auto r = decode_frame(f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "unsupported protocol version 9 (this side speaks 1)");
}

TEST(FrameReader, SplitsAStreamAtAnyBoundary) {
  std::string stream =
      encode_frame({{"n", 1}}) + encode_frame({{"n", 2}}) + encode_frame({{"n", 3}});
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    std::vector<int> seen;
    for (std::string_view part :
         {std::string_view(stream).substr(0, cut), std::string_view(stream).substr(cut)}) {
      reader.feed(part);
      for (;;) {
        auto next = reader.next();
        ASSERT_TRUE(next);
        if (!*next) break;
        seen.push_back((**next)["n"].get<int>());
      }
    }
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3})) << "cut at " << cut;
    EXPECT_EQ(reader.pending(), 0u);
  }
}

TEST(FrameReader, OversizedLengthIsRefusedBeforeBuffering) {
  FrameReader reader(1024);
  reader.feed(std::string("\x00\x10\x00\x00", 4));  // 1 MiB announced
  auto next = reader.next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, EMSGSIZE);
}

}  // namespace
}  // namespace postcore::api
