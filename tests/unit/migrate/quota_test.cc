#include "control/migrate/quota.h"

#include <gtest/gtest.h>

#include <string>

namespace postcore::migrate {
namespace {

struct GoodQuota {
  const char* text;
  Quota quota;
};

TEST(Quota, ParsesCommuniGateSizes) {
  const GoodQuota cases[] = {
      {"10K", {10ull << 10, false}}, {"120K", {120ull << 10, false}}, {"1M", {1ull << 20, false}},
      {"2G", {2ull << 30, false}},   {"500", {500ull << 10, false}},  {"2g", {2ull << 30, false}},
      {"7m", {7ull << 20, false}},   {"1k", {1ull << 10, false}},     {"unlimited", {0, true}},
      {"Unlimited", {0, true}},      {"0010M", {10ull << 20, false}},
  };
  for (const auto& c : cases) {
    auto quota = parse_quota(c.text);
    ASSERT_TRUE(quota.ok()) << c.text << ": " << quota.error().message;
    EXPECT_EQ(*quota, c.quota) << c.text;
  }
}

struct BadQuota {
  const char* text;
  const char* message;
};

TEST(Quota, RefusesWhatItCannotReadExactly) {
  constexpr const char* kForms =
      ": write a whole number of kilobytes, or one with K, M or G "
      "(10K, 120K, 1M, 2G), or \"unlimited\"";
  const BadQuota cases[] = {
      {"12X", "quota \"12X\" has an unknown unit"},
      {"10KB", "quota \"10KB\" has an unknown unit"},
      {"1T", "quota \"1T\" has an unknown unit"},
      {"1.5G", "quota \"1.5G\" is not a whole number"},
      {"1,5G", "quota \"1,5G\" is not a whole number"},
      {"-5", "quota \"-5\" is not a number"},
      {"K", "quota \"K\" is not a number"},
      {"none", "quota \"none\" is not a number"},
      {"10 M", "quota \"10 M\" has an unknown unit"},
      {"99999999999999999999", "quota \"99999999999999999999\" is too large"},
      {"20000000000000000G", "quota \"20000000000000000G\" is too large"},
  };
  for (const auto& c : cases) {
    auto quota = parse_quota(c.text);
    ASSERT_FALSE(quota.ok()) << c.text;
    EXPECT_EQ(quota.error().message, std::string(c.message) + kForms) << c.text;
  }
  auto zero = parse_quota("0");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message,
            "quota \"0\" is ambiguous (no space, or no limit?): write \"unlimited\" or a size, or "
            "leave the field empty for the domain default");
}

}  // namespace
}  // namespace postcore::migrate
