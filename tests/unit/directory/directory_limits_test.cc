// The bounds on one resolution: nesting depth and number of targets.
#include <gtest/gtest.h>

#include <string>

#include "control/directory/directory.h"

namespace postcore::directory {
namespace {

// g0 → g1 → … → g(levels-1) → alice: alice sits at depth `levels`.
DirectoryData nested_groups(int levels) {
  DirectoryData d;
  d.domains = {{"example.com", {}, ""}};
  d.accounts = {{"alice", "example.com", "", "", kAllServices, 0}};
  for (int i = 0; i < levels; i++) {
    std::string next =
        i + 1 < levels ? "g" + std::to_string(i + 1) + "@example.com" : "alice@example.com";
    d.groups.push_back({"g" + std::to_string(i), "example.com", "", {next}});
  }
  return d;
}

std::string far_address(int i) {
  std::string address = "u";
  address += std::to_string(i);
  address += "@far.example";
  return address;
}

DirectoryData wide_group(int members) {
  DirectoryData d;
  d.domains = {{"example.com", {}, ""}};
  Group g{"all", "example.com", "", {}};
  for (int i = 0; i < members; i++) g.members.push_back(far_address(i));
  d.groups.push_back(std::move(g));
  return d;
}

Resolution resolve(DirectoryData data, std::string_view address, DirectoryLimits limits = {}) {
  auto built = Directory::build(std::move(data), limits);
  EXPECT_TRUE(built.ok()) << built.error().message;
  return (*built)->resolve(address, "");
}

TEST(DirectoryLimits, TwentyLevelsAreFine) {
  Resolution r = resolve(nested_groups(20), "g0@example.com");
  EXPECT_EQ(r.verdict, Verdict::accept);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].address, "alice@example.com");
}

TEST(DirectoryLimits, DeeperIsATemporaryFailure) {
  Resolution r = resolve(nested_groups(21), "g0@example.com");
  EXPECT_EQ(r.verdict, Verdict::temporary_failure);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.detail.find("deeper than 20"), std::string::npos) << r.detail;
}

TEST(DirectoryLimits, DepthCountsFromTheRecipient) {
  EXPECT_EQ(resolve(nested_groups(21), "g1@example.com").verdict, Verdict::accept);
}

TEST(DirectoryLimits, TenThousandTargetsAreFine) {
  Resolution r = resolve(wide_group(10'000), "all@example.com");
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_EQ(r.targets.size(), 10'000u);
}

TEST(DirectoryLimits, MoreTargetsIsATemporaryFailure) {
  Resolution r = resolve(wide_group(10'001), "all@example.com");
  EXPECT_EQ(r.verdict, Verdict::temporary_failure);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.detail.find("more than 10000 targets"), std::string::npos) << r.detail;
}

TEST(DirectoryLimits, DuplicatesDoNotCount) {
  DirectoryData d = wide_group(3);
  for (int i = 0; i < 50; i++) d.groups[0].members.push_back("U1@FAR.example");
  Resolution r = resolve(std::move(d), "all@example.com", DirectoryLimits{20, 4});
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_EQ(r.targets.size(), 4u);  // u0, u1, u2 and U1 (remote local parts keep case)
}

TEST(DirectoryLimits, DeduplicationPastTheLinearSearch) {
  DirectoryData d = wide_group(100);
  for (int i = 0; i < 100; i++) d.groups[0].members.push_back(far_address(i));
  Resolution r = resolve(std::move(d), "all@example.com");
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_EQ(r.targets.size(), 100u);
}

TEST(DirectoryLimits, CatchAllChainsCountTowardsDepth) {
  DirectoryData d;
  auto domain = [](int i) {
    std::string name = "d";
    name += std::to_string(i);
    name += ".test";
    return name;
  };
  for (int i = 0; i < 25; i++) d.domains.push_back({domain(i), {}, "x@" + domain(i + 1)});
  d.accounts = {{"x", "d25.test", "", "", kAllServices, 0}};
  d.domains.push_back({"d25.test", {}, ""});
  EXPECT_EQ(resolve(d, "x@d5.test").verdict, Verdict::accept);
  EXPECT_EQ(resolve(d, "x@d0.test").verdict, Verdict::temporary_failure);
}

TEST(DirectoryLimits, PostmasterIsAcceptedEvenPastTheLimits) {
  DirectoryData d = wide_group(10);
  d.groups[0].name = "postmaster";
  Resolution r = resolve(std::move(d), "postmaster@example.com", DirectoryLimits{20, 5});
  EXPECT_EQ(r.verdict, Verdict::accept);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_TRUE(r.targets[0].implicit);
  EXPECT_EQ(r.targets[0].address, "postmaster@example.com");
  EXPECT_TRUE(r.detail.empty());
}

TEST(DirectoryLimits, LongCycleEnds) {
  DirectoryData d;
  d.domains = {{"example.com", {}, ""}};
  d.accounts = {{"alice", "example.com", "", "", kAllServices, 0}};
  for (int i = 0; i < 15; i++) {
    d.groups.push_back(
        {"g" + std::to_string(i),
         "example.com",
         "",
         {"g" + std::to_string((i + 1) % 15) + "@example.com",
          "g" + std::to_string((i + 7) % 15) + "@example.com", "alice@example.com"}});
  }
  Resolution r = resolve(std::move(d), "g3@example.com");
  EXPECT_EQ(r.verdict, Verdict::accept);
  EXPECT_EQ(r.targets.size(), 1u);
}

}  // namespace
}  // namespace postcore::directory
