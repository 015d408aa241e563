// Failed logins slow answers down per client address and per account, refuse an address
// with too many, never refuse an account, are forgotten after a while, and are cleared by a
// success; the tables stay bounded.
#include "dataplane/server/login_throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace postcore::server {
namespace {

using namespace std::chrono_literals;
using Clock = LoginThrottle::Clock;

AuthSettings settings() {
  AuthSettings s;
  s.failures_before_delay = 3;
  s.max_login_delay = 5000ms;
  s.failures_before_refusal = 10;
  s.failure_memory = 900s;
  s.tracked_logins = 100;
  return s;
}

TEST(LoginThrottle, AnswersSlowDownDoublingUpToTheLimit) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  const std::chrono::milliseconds expected[] = {0ms,    0ms,    0ms,    1000ms, 2000ms,
                                                4000ms, 5000ms, 5000ms, 5000ms};
  for (auto delay : expected) {
    auto v = t.before("192.0.2.1", "alice@example.com", now);
    EXPECT_EQ(v.delay, delay);
    EXPECT_FALSE(v.refuse);
    t.failed("192.0.2.1", "alice@example.com", now);
  }
}

TEST(LoginThrottle, AnAddressWithTooManyFailuresIsRefusedOthersAreNot) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 10; i++)
    EXPECT_EQ(t.failed("192.0.2.1", "user" + std::to_string(i) + "@example.com", now), i == 9);
  EXPECT_TRUE(t.before("192.0.2.1", "someone@example.com", now).refuse);
  EXPECT_FALSE(t.before("192.0.2.2", "someone@example.com", now).refuse);
  EXPECT_EQ(t.before("192.0.2.2", "someone@example.com", now).delay, 0ms);
}

TEST(LoginThrottle, AnAccountUnderAttackIsSlowedButNeverRefused) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 200; i++)  // two failures each from a hundred addresses
    t.failed("198.51.100." + std::to_string(i / 2), "Victim@Example.com", now);
  auto v = t.before("203.0.113.7", "victim@example.com", now);
  EXPECT_FALSE(v.refuse);
  EXPECT_EQ(v.delay, 5000ms);
  EXPECT_EQ(t.before("203.0.113.7", "other@example.com", now).delay, 0ms);
}

TEST(LoginThrottle, FailuresAreForgottenAfterTheMemory) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 10; i++) t.failed("192.0.2.1", "alice@example.com", now);
  EXPECT_TRUE(t.before("192.0.2.1", "alice@example.com", now + 899s).refuse);
  auto later = t.before("192.0.2.1", "alice@example.com", now + 901s);
  EXPECT_FALSE(later.refuse);
  EXPECT_EQ(later.delay, 0ms);
  // Counting starts again from one.
  t.failed("192.0.2.1", "alice@example.com", now + 901s);
  EXPECT_EQ(t.before("192.0.2.1", "alice@example.com", now + 901s).delay, 0ms);
}

TEST(LoginThrottle, ASuccessClearsItsAddressAndAccount) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 9; i++) t.failed("192.0.2.1", "alice@example.com", now);
  t.succeeded("192.0.2.1", "ALICE@example.com");
  t.failed("192.0.2.1", "alice@example.com", now);
  auto v = t.before("192.0.2.1", "alice@example.com", now);
  EXPECT_FALSE(v.refuse);
  EXPECT_EQ(v.delay, 0ms);
}

TEST(LoginThrottle, IPv6CountsByItsSlash64) {
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(LoginThrottle::address_key("192.0.2.7"), "192.0.2.7");
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 10; i++)
    t.failed("2001:db8:1:2::" + std::to_string(i + 1), "x" + std::to_string(i), now);
  EXPECT_TRUE(t.before("2001:db8:1:2:ffff::", "y", now).refuse);
  EXPECT_FALSE(t.before("2001:db8:1:3::1", "y", now).refuse);
}

TEST(LoginThrottle, TheTablesStayBoundedAndKeepWhatMatters) {
  LoginThrottle t(settings());
  const auto now = Clock::now();
  for (int i = 0; i < 10; i++) t.failed("192.0.2.1", "target@example.com", now);
  // Far more one-off failures than the table holds.
  for (int i = 0; i < 5000; i++)
    t.failed("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250),
             "n" + std::to_string(i), now);
  EXPECT_TRUE(t.before("192.0.2.1", "z", now).refuse);  // the worst offender is kept
  EXPECT_EQ(t.before("198.51.100.1", "target@example.com", now).delay, 5000ms);
}

}  // namespace
}  // namespace postcore::server
