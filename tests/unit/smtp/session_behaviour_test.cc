// Session behaviour that a byte table cannot show: streaming without buffering, timeouts,
// shutdown, the envelope handed to the host, input held while a commit or AUTH answer is
// outstanding, and the AUTH state.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/smtp/session_driver.h"

namespace postcore::smtp::smtp_test {
namespace {

const std::string kGreeting = "220 mx.test ESMTP ready\r\n";
const std::string kStart = "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n";
const std::string kRcpt = "RCPT TO:<b@example.net>\r\n";

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() : config_(default_config()), session_(config_, host_, "192.0.2.1") {}

  std::string take_output() {
    std::string out = session_.output();
    session_.output().clear();
    return out;
  }

  Config config_;
  RecordingHost host_;
  Session session_;
};

TEST_F(SessionTest, GreetingOnStartOnly) {
  EXPECT_EQ(session_.output(), "");
  session_.start(kNow);
  EXPECT_EQ(take_output(), kGreeting);
  session_.start(kNow);
  EXPECT_EQ(take_output(), "");
}

TEST_F(SessionTest, InputBeforeStartWaitsForTheGreeting) {
  session_.feed("NOOP\r\n", kNow);
  EXPECT_EQ(session_.output(), "");
  session_.start(kNow);
  EXPECT_EQ(take_output(), kGreeting + "250 2.0.0 Ok\r\n");
}

TEST_F(SessionTest, StreamsLargeMessageWithoutHoldingIt) {
  session_.start(kNow);
  session_.feed(kStart + kRcpt + "DATA\r\n", kNow);
  const std::string line(998, 'x');
  std::string piece;
  while (piece.size() < 64 * 1024) piece += line + "\r\n";
  const size_t pieces = (50u << 20) / piece.size();
  size_t fed = 0;
  for (size_t i = 0; i < pieces; ++i) {
    session_.feed(piece, kNow);
    fed += piece.size();
    EXPECT_EQ(session_.pending_input(), 0u);
    // Everything fed has been handed on, in calls as large as the pieces fed.
    ASSERT_EQ(host_.log.back().size() - 5 - received("Q1").size(), fed);
    ASSERT_EQ(host_.data_call_sizes.back(), piece.size());
  }
  // Keep the log small: it holds the whole message.
  host_.log.back().clear();
  session_.feed(".\r\n", kNow);
  ASSERT_TRUE(session_.awaiting_commit());
  EXPECT_LE(host_.data_call_sizes.size(), pieces + 2);
  session_.commit_succeeded("Q1");
  EXPECT_EQ(take_output(),
            kGreeting + ehlo_reply() + "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" +
                "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as Q1\r\n");
}

TEST_F(SessionTest, StreamsLargeChunkWithoutHoldingIt) {
  session_.start(kNow);
  const std::string piece(64 * 1024, 'b');
  session_.feed(kStart + kRcpt + "BDAT " + std::to_string(piece.size() * 10) + " LAST\r\n", kNow);
  for (int i = 0; i < 10; ++i) {
    session_.feed(piece, kNow);
    EXPECT_EQ(session_.pending_input(), 0u);
    EXPECT_EQ(host_.data_call_sizes.back(), piece.size());
  }
  EXPECT_TRUE(session_.awaiting_commit());
}

TEST_F(SessionTest, OverlongCommandLineIsNotBuffered) {
  session_.start(kNow);
  const std::string junk(4096, 'j');
  for (int i = 0; i < 256; ++i) {
    session_.feed(junk, kNow);
    EXPECT_LE(session_.pending_input(), config_.limits.max_command_line);
  }
  session_.feed("\r\nNOOP\r\n", kNow);
  EXPECT_EQ(take_output(), kGreeting + "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(session_.pending_input(), 0u);
}

TEST_F(SessionTest, PartialCommandLineIsCompletedByTheNextFeed) {
  session_.start(kNow);
  session_.feed("NO", kNow);
  EXPECT_EQ(session_.pending_input(), 2u);
  session_.feed("OP\r\nNOOP\r\nNO", kNow);
  EXPECT_EQ(session_.pending_input(), 2u);
  EXPECT_EQ(take_output(), kGreeting + "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
}

TEST_F(SessionTest, InputWaitsWhileCommitIsOutstanding) {
  session_.start(kNow);
  session_.feed(kStart + kRcpt + "DATA\r\nhi\r\n.\r\nNOOP\r\n", kNow);
  EXPECT_TRUE(session_.awaiting_commit());
  EXPECT_TRUE(session_.in_transaction());
  session_.feed("MAIL FROM:<c@example.org>\r\n", kNow);
  EXPECT_EQ(session_.pending_input(), 6u + 27u);
  const std::string before = take_output();
  EXPECT_EQ(before.find("250 2.0.0 Ok: queued"), std::string::npos);
  session_.commit_succeeded("Q1");
  EXPECT_FALSE(session_.awaiting_commit());
  EXPECT_EQ(session_.pending_input(), 0u);
  EXPECT_EQ(take_output(), "250 2.0.0 Ok: queued as Q1\r\n250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n");
  EXPECT_TRUE(session_.in_transaction());
}

TEST_F(SessionTest, CommitAnswersOutsideACommitAreIgnored) {
  session_.start(kNow);
  take_output();
  session_.commit_succeeded("Q9");
  session_.commit_failed();
  EXPECT_EQ(session_.output(), "");
}

TEST_F(SessionTest, EnvelopeCarriesEverything) {
  session_.start(1000);
  session_.feed("EHLO client.test\r\nMAIL FROM:<a@example.org> BODY=8BITMIME RET=FULL\r\n", 2000);
  session_.feed("RCPT TO:<b@example.net> NOTIFY=FAILURE ORCPT=rfc822;b+40example.net\r\n", 3000);
  session_.feed("DATA\r\n", 1700000000);
  const Envelope& envelope = host_.last_envelope;
  EXPECT_EQ(envelope.client_address, "192.0.2.1");
  EXPECT_EQ(envelope.helo, "client.test");
  EXPECT_TRUE(envelope.esmtp);
  EXPECT_EQ(envelope.mail_from, "a@example.org");
  EXPECT_EQ(envelope.body, BodyType::eight_bit_mime);
  EXPECT_EQ(envelope.ret, DsnRet::full);
  EXPECT_EQ(envelope.received_at, 2000);  // when MAIL was given
  ASSERT_EQ(envelope.recipients.size(), 1u);
  EXPECT_EQ(envelope.recipients[0].address, "b@example.net");
  EXPECT_EQ(envelope.recipients[0].notify, notify_failure);
  EXPECT_EQ(envelope.recipients[0].orcpt, "rfc822;b+40example.net");
  // The Received: date is when the message began.
  EXPECT_EQ(host_.log.back(), "DATA " + received("Q1"));
}

TEST_F(SessionTest, TimeoutsFollowTheState) {
  session_.start(kNow);
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(300));
  session_.feed(kStart + kRcpt + "DATA\r\n", kNow);
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(180));
  session_.feed("x\r\n.\r\n", kNow);
  session_.commit_succeeded("Q1");
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(300));
  session_.feed("MAIL FROM:<a@example.org>\r\n" + kRcpt + "BDAT 10\r\nabc", kNow);
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(180));
  session_.feed("defghij", kNow);
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(300));
}

TEST_F(SessionTest, TimeoutDuringDataAbortsAndCloses) {
  session_.start(kNow);
  session_.feed(kStart + kRcpt + "DATA\r\npart of a mess", kNow);
  take_output();
  session_.timed_out();
  EXPECT_TRUE(session_.closing());
  EXPECT_FALSE(session_.in_transaction());
  EXPECT_EQ(take_output(), "421 4.4.2 mx.test Timeout exceeded, closing connection\r\n");
  EXPECT_EQ(host_.log.back(), "ABORT");
  session_.feed("age\r\n.\r\nNOOP\r\n", kNow);
  session_.timed_out();
  session_.shutting_down();
  EXPECT_EQ(session_.output(), "");
}

TEST_F(SessionTest, ShutdownClosesBetweenCommands) {
  session_.start(kNow);
  take_output();
  session_.shutting_down();
  EXPECT_TRUE(session_.closing());
  EXPECT_EQ(take_output(), "421 4.3.2 mx.test Service shutting down, closing connection\r\n");
  EXPECT_TRUE(host_.log.empty());
}

TEST_F(SessionTest, ShutdownWhileAwaitingCommitSaysNothingMoreAfterwards) {
  session_.start(kNow);
  session_.feed(kStart + kRcpt + "DATA\r\nx\r\n.\r\n", kNow);
  take_output();
  session_.shutting_down();
  EXPECT_EQ(take_output(), "421 4.3.2 mx.test Service shutting down, closing connection\r\n");
  session_.commit_succeeded("Q1");
  EXPECT_EQ(session_.output(), "");
  EXPECT_FALSE(session_.awaiting_commit());
}

// AUTH with the answer given by hand. "\0alice@example.com\0secret" in base64 (made with
// Python's base64 module).
class AuthSessionTest : public ::testing::Test {
 protected:
  static Config auth_config() {
    Config config = default_config();
    config.auth.offered = true;
    return config;
  }
  AuthSessionTest() : session_(auth_config(), host_, "192.0.2.1") {
    session_.start(kNow);
    session_.feed("EHLO client.test\r\n", kNow);
    session_.output().clear();
  }

  std::string take_output() {
    std::string out = session_.output();
    session_.output().clear();
    return out;
  }

  static constexpr std::string_view kAuthAlice =
      "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\n";
  RecordingHost host_;
  Session session_;
};

TEST_F(AuthSessionTest, StateWhileAwaitingTheAnswer) {
  session_.feed("AUTH PLAIN\r\n", kNow);
  EXPECT_EQ(take_output(), "334 \r\n");
  EXPECT_FALSE(session_.awaiting_auth());
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(300));
  session_.feed("AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\r\nMAIL FROM:<a@example.org>\r\n", kNow);
  EXPECT_TRUE(session_.awaiting_auth());
  EXPECT_FALSE(session_.authenticated());
  EXPECT_EQ(session_.auth_user(), "");
  EXPECT_EQ(session_.current_timeout(), std::chrono::seconds(300));
  EXPECT_EQ(session_.pending_input(), 27u);  // the MAIL, held
  EXPECT_EQ(take_output(), "");
  EXPECT_EQ(host_.log, std::vector<std::string>{"AUTH |alice@example.com|secret"});

  session_.auth_answered(AuthResult::success);
  EXPECT_FALSE(session_.awaiting_auth());
  EXPECT_TRUE(session_.authenticated());
  EXPECT_EQ(session_.auth_user(), "alice@example.com");
  EXPECT_EQ(session_.pending_input(), 0u);
  EXPECT_EQ(take_output(), "235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n");
  EXPECT_TRUE(session_.in_transaction());
}

TEST_F(AuthSessionTest, AnswerWithoutAnExchangeIsIgnored) {
  session_.auth_answered(AuthResult::success);
  session_.feed("AUTH LOGIN\r\n", kNow);
  session_.auth_answered(AuthResult::success);  // a challenge is out, not a question
  EXPECT_EQ(take_output(), "334 VXNlcm5hbWU6\r\n");
  EXPECT_FALSE(session_.authenticated());
}

TEST_F(AuthSessionTest, FailureLeavesTheSessionAnonymous) {
  session_.feed(kAuthAlice, kNow);
  session_.auth_answered(AuthResult::invalid);
  session_.feed(kAuthAlice, kNow);
  session_.auth_answered(AuthResult::temporary_failure);
  EXPECT_FALSE(session_.authenticated());
  EXPECT_EQ(session_.auth_user(), "");
  EXPECT_EQ(take_output(),
            "535 5.7.8 Authentication credentials invalid\r\n"
            "454 4.7.0 Temporary authentication failure\r\n");
}

TEST_F(AuthSessionTest, TimeoutWhileAwaitingTheAnswerSaysNothingMoreAfterwards) {
  session_.feed(std::string(kAuthAlice) + "NOOP\r\n", kNow);
  ASSERT_TRUE(session_.awaiting_auth());
  session_.timed_out();
  EXPECT_TRUE(session_.closing());
  EXPECT_EQ(take_output(), "421 4.4.2 mx.test Timeout exceeded, closing connection\r\n");
  session_.auth_answered(AuthResult::success);
  EXPECT_FALSE(session_.awaiting_auth());
  EXPECT_FALSE(session_.authenticated());
  EXPECT_EQ(session_.output(), "");
}

TEST_F(AuthSessionTest, ShutdownInsideTheExchangeCloses) {
  session_.feed("AUTH LOGIN\r\n", kNow);
  take_output();
  session_.shutting_down();
  EXPECT_EQ(take_output(), "421 4.3.2 mx.test Service shutting down, closing connection\r\n");
  session_.feed("YWxpY2VAZXhhbXBsZS5jb20=\r\n", kNow);
  EXPECT_EQ(session_.output(), "");
  EXPECT_TRUE(host_.log.empty());
}

TEST_F(AuthSessionTest, EnvelopeCarriesTheUser) {
  session_.feed(kAuthAlice, kNow);
  session_.auth_answered(AuthResult::success);
  session_.feed("MAIL FROM:<a@example.org>\r\n" + kRcpt + "DATA\r\n", kNow);
  EXPECT_EQ(host_.last_envelope.auth_user, "alice@example.com");
}

TEST_F(AuthSessionTest, HostNamesTheUserItKnows) {
  session_.feed(kAuthAlice, kNow);
  session_.auth_answered(AuthResult::success, "alice@example.net");
  EXPECT_EQ(session_.auth_user(), "alice@example.net");
  session_.feed("MAIL FROM:<a@example.org>\r\n" + kRcpt + "DATA\r\n", kNow);
  EXPECT_EQ(host_.last_envelope.auth_user, "alice@example.net");
}

TEST_F(SessionTest, DefaultErrorLimit) {
  session_.start(kNow);
  take_output();
  std::string input;
  for (int i = 0; i < 12; ++i) input += "FROB\r\n";
  session_.feed(input, kNow);
  std::string want;
  for (int i = 0; i < 10; ++i) want += "500 5.5.1 Command unrecognized\r\n";
  want += "421 4.7.0 mx.test Too many errors, closing connection\r\n";
  EXPECT_EQ(take_output(), want);
  EXPECT_TRUE(session_.closing());
}

TEST_F(SessionTest, DefaultTextLineLimit) {
  session_.start(kNow);
  session_.feed(kStart + kRcpt + "DATA\r\n" + std::string(998, 'x') + "\r\n.\r\n", kNow);
  ASSERT_TRUE(session_.awaiting_commit());
  session_.commit_succeeded("Q1");
  take_output();
  session_.feed(
      "MAIL FROM:<a@example.org>\r\n" + kRcpt + "DATA\r\n" + std::string(999, 'x') + "\r\n.\r\n",
      kNow);
  EXPECT_EQ(take_output(),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "500 5.5.6 Line too long\r\n");
}

}  // namespace
}  // namespace postcore::smtp::smtp_test
