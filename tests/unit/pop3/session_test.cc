// The POP3 session from conversation tables: each case is what a client sends and what the
// server must answer, run whole, split at every byte boundary and fed one octet at a time
// (the answers must not change), against a host that answers at once; and the host's side:
// answers that come later, reads that fail, deletions that are never committed.
#include "dataplane/pop3/session.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base64.h"

namespace postcore::pop3 {
namespace {

struct Message {
  std::string content;  // as stored
  std::string uidl;
  uint64_t size;  // as RETR sends it (CRLF line ends)
};

class FakeHost : public SessionHost {
 public:
  std::map<std::string, std::string> passwords{{"alice@example.com", "secret word"}};
  std::map<std::string, std::string> apop_digests;  // user -> the digest that is right
  std::vector<Message> messages;
  bool in_use = false;
  bool answer_later = false;  // hold the answers until answer() is called
  bool read_fails = false;    // the next retrieve fails before any octet
  bool read_breaks = false;   // the next retrieve fails half way
  bool deletes_fail = false;
  size_t chunk = 7;  // octets per message_data()
  Session* session = nullptr;
  std::vector<std::string> calls;
  std::optional<std::vector<size_t>> committed;

  void authenticate(std::string_view user, std::string_view password) override {
    calls.push_back("auth " + std::string(user));
    auto it = passwords.find(std::string(user));
    const bool ok = it != passwords.end() && it->second == password;
    later(
        [this, ok] { session->login_answered(ok ? LoginResult::success : LoginResult::invalid); });
  }
  void authenticate_apop(std::string_view user, std::string_view timestamp,
                         std::string_view digest) override {
    calls.push_back("apop " + std::string(user) + " " + std::string(timestamp));
    auto it = apop_digests.find(std::string(user));
    const bool ok = it != apop_digests.end() && it->second == digest;
    later(
        [this, ok] { session->login_answered(ok ? LoginResult::success : LoginResult::invalid); });
  }
  void open_maildrop(std::string_view user) override {
    calls.push_back("open " + std::string(user));
    later([this] {
      if (in_use) return session->maildrop_opened(MaildropResult::in_use);
      std::vector<MessageEntry> listing;
      for (const Message& m : messages) listing.push_back({m.size, m.uidl});
      session->maildrop_opened(MaildropResult::opened, std::move(listing));
    });
  }
  void retrieve(size_t index) override {
    calls.push_back("retrieve " + std::to_string(index));
    later([this, index] {
      if (read_fails) {
        read_fails = false;
        return session->message_end(false);
      }
      const std::string& text = messages[index].content;
      const size_t stop = read_breaks ? text.size() / 2 : text.size();
      for (size_t at = 0; at < stop && session->wants_message_data(); at += chunk)
        session->message_data(std::string_view(text).substr(at, std::min(chunk, stop - at)));
      session->message_end(!read_breaks);
      read_breaks = false;
    });
  }
  void commit_deletes(const std::vector<size_t>& indices) override {
    calls.push_back("delete");
    committed = indices;
    later([this] { session->deletes_committed(!deletes_fail); });
  }

  // Runs the held answers, in order, until none is left.
  void answer() {
    while (!held_.empty()) {
      auto fn = std::move(held_.front());
      held_.erase(held_.begin());
      fn();
    }
  }

 private:
  void later(std::function<void()> fn) {
    if (answer_later)
      held_.push_back(std::move(fn));
    else
      fn();
  }
  std::vector<std::function<void()>> held_;
};

Message message(std::string content, std::string uidl) {
  uint64_t size = 0;
  for (size_t i = 0; i < content.size(); i++) {
    size++;
    if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) size++;  // sent as CRLF
  }
  if (!content.empty() && content.back() != '\n') size += 2;
  return {std::move(content), std::move(uidl), size};
}

std::vector<Message> maildrop() {
  return {
      message("Subject: one\r\n\r\nfirst line\r\n.starts with a dot\r\n..two dots\r\nlast\r\n",
              "uidl-1"),
      message("Subject: two\r\nX: y\r\n\r\nbody\r\n", "uidl-2"),
      message("Subject: bare\n\nlf only\n.dot\nno final newline", "uidl-3"),
  };
}

Config config() {
  Config c;
  c.hostname = "mail.example.com";
  return c;
}

// Runs `input` through a new session fed in the given pieces; returns everything it said.
std::string converse(const Config& c, const std::vector<std::string_view>& pieces,
                     FakeHost* host_out = nullptr) {
  FakeHost host;
  host.messages = maildrop();
  host.apop_digests["alice@example.com"] = "c4c9334bac560ecc979e58001b3e22fb";
  Session session(c, host);
  host.session = &session;
  std::string out;
  session.start();
  for (std::string_view piece : pieces) {
    session.feed(piece);
    out += session.output();
    session.output().clear();
  }
  if (host_out) {
    host_out->calls = host.calls;
    host_out->committed = host.committed;
  }
  return out;
}

struct Case {
  const char* name;
  std::string input;
  std::string expected;  // after the greeting
  bool plaintext = true;
  std::string apop_timestamp;
};

const std::string kGreeting = "+OK mail.example.com POP3 ready.\r\n";
const std::string kLogin = "USER alice@example.com\r\nPASS secret word\r\n";
const std::string kLoggedIn = "+OK\r\n+OK Logged in.\r\n";

std::vector<Case> cases() {
  const std::string plain_ir = [] {
    // "\0alice@example.com\0secret word" in base64
    return std::string("AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldCB3b3Jk");
  }();
  return {
      {"capa before login", "CAPA\r\n",
       "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
       "AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\n.\r\n"},
      {"capa without plaintext", "CAPA\r\nUSER alice@example.com\r\nAUTH\r\nAUTH PLAIN\r\n",
       "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
       "AUTH-RESP-CODE\r\n.\r\n"
       "-ERR [AUTH] Plaintext authentication is not allowed on this connection.\r\n"
       "+OK\r\n.\r\n"
       "-ERR [AUTH] Plaintext authentication is not allowed on this connection.\r\n",
       false},
      {"stat list uidl", kLogin + "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\nNOOP\r\n",
       kLoggedIn + "+OK 3 " + std::to_string(66 + 28 + 50) +
           "\r\n+OK 3 messages\r\n1 66\r\n2 28\r\n3 50\r\n.\r\n+OK 2 28\r\n"
           "+OK\r\n1 uidl-1\r\n2 uidl-2\r\n3 uidl-3\r\n.\r\n+OK 3 uidl-3\r\n+OK\r\n"},
      {"retr dot-stuffs", kLogin + "RETR 1\r\n",
       kLoggedIn + "+OK 66 octets\r\nSubject: one\r\n\r\nfirst line\r\n..starts with a dot\r\n"
                   "...two dots\r\nlast\r\n.\r\n"},
      {"retr of bare LF ends each line with CRLF and ends the last", kLogin + "RETR 3\r\n",
       kLoggedIn + "+OK 50 octets\r\nSubject: bare\r\n\r\nlf only\r\n..dot\r\nno final newline\r\n"
                   ".\r\n"},
      {"top", kLogin + "TOP 1 0\r\nTOP 1 2\r\nTOP 2 99\r\nTOP 3 1\r\n",
       kLoggedIn + "+OK\r\nSubject: one\r\n\r\n.\r\n" +
           "+OK\r\nSubject: one\r\n\r\nfirst line\r\n..starts with a dot\r\n.\r\n" +
           "+OK\r\nSubject: two\r\nX: y\r\n\r\nbody\r\n.\r\n" +
           "+OK\r\nSubject: bare\r\n\r\nlf only\r\n.\r\n"},
      {"dele rset quit",
       kLogin + "DELE 1\r\nSTAT\r\nRETR 1\r\nLIST 1\r\nDELE 1\r\nRSET\r\nDELE 2\r\nLIST\r\n"
                "QUIT\r\n",
       kLoggedIn + "+OK Marked to be deleted.\r\n+OK 2 78\r\n-ERR Message 1 is deleted.\r\n" +
           "-ERR Message 1 is deleted.\r\n-ERR Message 1 is deleted.\r\n+OK\r\n" +
           "+OK Marked to be deleted.\r\n+OK 2 messages\r\n1 66\r\n3 50\r\n.\r\n" +
           "+OK Logging out, messages deleted.\r\n"},
      {"bad message numbers",
       kLogin + "RETR 0\r\nRETR 4\r\nRETR x\r\nLIST -1\r\nTOP 1\r\nDELE 99999999999999999999\r\n",
       kLoggedIn + "-ERR There is no message 0.\r\n-ERR There is no message 4.\r\n" +
           "-ERR Invalid message number.\r\n-ERR Invalid message number.\r\n" +
           "-ERR TOP needs a message number and a line count.\r\n" +
           "-ERR Invalid message number.\r\n"},
      {"wrong password, then right",
       "USER alice@example.com\r\nPASS wrong\r\nPASS secret word\r\n" + kLogin,
       "+OK\r\n-ERR [AUTH] Authentication failed.\r\n-ERR Give USER first.\r\n" + kLoggedIn},
      {"commands before login", "STAT\r\nRETR 1\r\nPASS x\r\nFOO\r\nQUIT\r\n",
       "-ERR Log in first.\r\n-ERR Log in first.\r\n-ERR Give USER first.\r\n"
       "-ERR Unknown command.\r\n+OK Logging out.\r\n"},
      {"auth plain with an initial response", "AUTH\r\nAUTH PLAIN " + plain_ir + "\r\nSTAT\r\n",
       "+OK\r\nPLAIN\r\n.\r\n+OK Logged in.\r\n+OK 3 144\r\n"},
      {"auth plain with a continuation, and aborted",
       "AUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n" + plain_ir + "\r\nAUTH PLAIN x\r\n",
       "+ \r\n-ERR Authentication aborted.\r\n+ \r\n+OK Logged in.\r\n-ERR Already logged in.\r\n"},
      {"auth plain refusals",
       "AUTH LOGIN\r\nAUTH PLAIN !!!\r\nAUTH PLAIN " +
           std::string("AGFsaWNlQGV4YW1wbGUuY29tAHdyb25n") + "\r\nAUTH PLAIN =\r\n",
       "-ERR Unsupported mechanism.\r\n-ERR Invalid base64 data.\r\n"
       "-ERR [AUTH] Authentication failed.\r\n-ERR [AUTH] Authentication failed.\r\n"},
      {"apop",
       "APOP alice@example.com 00000000000000000000000000000000\r\n"
       "APOP alice@example.com c4c9334bac560ecc979e58001b3e22fb\r\nSTAT\r\n",
       "-ERR [AUTH] Authentication failed.\r\n+OK Logged in.\r\n+OK 3 144\r\n", true,
       "<1896.697170952@dbc.mtview.ca.us>"},
      {"apop not offered", "APOP alice@example.com c4c9334bac560ecc979e58001b3e22fb\r\n",
       "-ERR APOP is not available.\r\n"},
      {"bare LF commands and lower case", "user alice@example.com\npass secret word\nstat\nquit\n",
       kLoggedIn + "+OK 3 144\r\n+OK Logging out.\r\n"},
      {"a line over the limit is refused and skipped",
       "NOOP " + std::string(3000, 'x') + "\r\nCAPA\r\n",
       "-ERR Line too long.\r\n+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\n"
       "RESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\n.\r\n"},
      {"too many bad commands close the connection",
       std::string("X\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nCAPA\r\n"),
       [] {
         std::string s;
         for (int i = 0; i < 10; i++) s += "-ERR Unknown command.\r\n";
         return s + "-ERR Too many bad commands.\r\n";
       }()},
      {"control characters", std::string("NO\0OP\r\n", 7),
       "-ERR Control characters in the command.\r\n"},
      {"nothing after quit", "QUIT\r\nCAPA\r\n", "+OK Logging out.\r\n"},
  };
}

TEST(Pop3Session, ConversationTablesAtEveryByteBoundary) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Config cfg = config();
    cfg.plaintext_logins = c.plaintext;
    cfg.apop_timestamp = c.apop_timestamp;
    const std::string greeting =
        c.apop_timestamp.empty() ? kGreeting
                                 : "+OK mail.example.com POP3 ready. " + c.apop_timestamp + "\r\n";
    const std::string whole = converse(cfg, {c.input});
    ASSERT_EQ(whole, greeting + c.expected);
    for (size_t split = 1; split < c.input.size(); split++) {
      const std::string_view in(c.input);
      ASSERT_EQ(converse(cfg, {in.substr(0, split), in.substr(split)}), whole)
          << "split at " << split;
    }
    std::vector<std::string_view> octets;
    for (size_t i = 0; i < c.input.size(); i++)
      octets.push_back(std::string_view(c.input).substr(i, 1));
    ASSERT_EQ(converse(cfg, octets), whole) << "one octet at a time";
  }
}

// Fixture for the host's side of things, with answers it controls.
class Pop3HostTest : public ::testing::Test {
 protected:
  Pop3HostTest() : session_(config(), host_) {
    host_.session = &session_;
    host_.messages = maildrop();
    session_.start();
    session_.output().clear();
  }
  std::string said() {
    std::string out = std::move(session_.output());
    session_.output().clear();
    return out;
  }
  FakeHost host_;
  Session session_;
};

TEST_F(Pop3HostTest, AnswersThatComeLaterKeepTheOrderOfPipelinedCommands) {
  host_.answer_later = true;
  session_.feed(kLogin + "STAT\r\nRETR 2\r\nNOOP\r\n");
  EXPECT_EQ(said(), "+OK\r\n");  // USER; PASS waits for its answer, the rest behind it
  EXPECT_TRUE(session_.awaiting_host());
  EXPECT_GT(session_.pending_input(), 0u);
  host_.answer();
  EXPECT_EQ(said(),
            "+OK Logged in.\r\n+OK 3 144\r\n+OK 28 octets\r\nSubject: two\r\nX: y\r\n\r\n"
            "body\r\n.\r\n+OK\r\n");
  EXPECT_FALSE(session_.awaiting_host());
}

TEST_F(Pop3HostTest, AMaildropInUseIsRefusedWithItsCode) {
  host_.in_use = true;
  session_.feed(kLogin + "STAT\r\n");
  EXPECT_EQ(said(),
            "+OK\r\n-ERR [IN-USE] The mailbox is in use by another session.\r\n"
            "-ERR Log in first.\r\n");
  EXPECT_FALSE(session_.logged_in());
}

TEST_F(Pop3HostTest, AReadThatFailsBeforeAnyOctetIsATemporaryError) {
  session_.feed(kLogin);
  said();
  host_.read_fails = true;
  session_.feed("RETR 1\r\nSTAT\r\n");
  EXPECT_EQ(said(), "-ERR [SYS/TEMP] The message cannot be read now.\r\n+OK 3 144\r\n");
  EXPECT_FALSE(session_.closing());
}

TEST_F(Pop3HostTest, AReadThatBreaksHalfWayHangsUpAndDeletesNothing) {
  session_.feed(kLogin + "DELE 2\r\n");
  said();
  host_.read_breaks = true;
  session_.feed("RETR 1\r\nQUIT\r\n");
  const std::string out = said();
  EXPECT_EQ(out.rfind("+OK 66 octets\r\n", 0), 0u) << out;
  EXPECT_EQ(out.find("\r\n.\r\n"), std::string::npos) << out;  // never looks complete
  EXPECT_TRUE(session_.closing());
  EXPECT_FALSE(host_.committed.has_value());
}

TEST_F(Pop3HostTest, DeletionsHappenOnlyAtQuitAndOnlyWhenCommitted) {
  host_.answer_later = true;
  session_.feed(kLogin);
  host_.answer();
  session_.feed("DELE 3\r\nDELE 1\r\nQUIT\r\nNOOP\r\n");
  said();
  ASSERT_TRUE(host_.committed.has_value());
  EXPECT_EQ(*host_.committed, (std::vector<size_t>{0, 2}));
  EXPECT_FALSE(session_.closing());  // not before the host says they are gone
  host_.answer();
  EXPECT_EQ(said(), "+OK Logging out, messages deleted.\r\n");
  EXPECT_TRUE(session_.closing());
}

TEST_F(Pop3HostTest, DeletionsThatCannotBeCommittedAreReported) {
  host_.deletes_fail = true;
  session_.feed(kLogin + "DELE 1\r\nQUIT\r\n");
  const std::string out = said();
  EXPECT_NE(out.find("-ERR [SYS/TEMP] The deleted messages could not be removed; none was.\r\n"),
            std::string::npos)
      << out;
  EXPECT_TRUE(session_.closing());
}

TEST_F(Pop3HostTest, AConnectionThatDropsDeletesNothing) {
  {
    FakeHost host;
    host.messages = maildrop();
    Session session(config(), host);
    host.session = &session;
    session.start();
    session.feed(kLogin + "DELE 1\r\nDELE 2\r\n");
    session.timed_out();
    EXPECT_NE(session.output().find("-ERR Disconnected for inactivity.\r\n"), std::string::npos);
    EXPECT_TRUE(session.closing());
    EXPECT_FALSE(host.committed.has_value());
  }
  session_.feed(kLogin + "DELE 1\r\n");
  session_.shutting_down();
  EXPECT_NE(said().find("-ERR [SYS/TEMP] The server is shutting down.\r\n"), std::string::npos);
  EXPECT_FALSE(host_.committed.has_value());
}

TEST_F(Pop3HostTest, TopStopsAskingForOctetsOnceItHasItsLines) {
  host_.chunk = 1;
  session_.feed(kLogin);
  said();
  host_.calls.clear();
  session_.feed("TOP 1 1\r\n");
  EXPECT_EQ(said(), "+OK\r\nSubject: one\r\n\r\nfirst line\r\n.\r\n");
  EXPECT_FALSE(session_.wants_message_data());
}

}  // namespace
}  // namespace postcore::pop3
