// SmtpService over the in-memory FileIo: the durability contract at the seam between
// the SMTP session and the spool. No 250 without a completed datasync; a failed flush
// answers 451 4.3.0 to every message of its group; a crash loses nothing acknowledged.
#include "dataplane/server/smtp_service.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "queue/volume/fake_file_io.h"

namespace postcore::server {
namespace {

class RecordingConnection final : public net::Connection {
 public:
  void send(std::string_view bytes) override { sent += bytes; }
  void close() override { closed = true; }
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  const std::string& peer_address() const override { return peer; }
  const std::string& local_address() const override { return local; }

  std::string sent;
  bool closed = false;
  bool paused = false;
  std::string peer = "192.0.2.7";
  std::string local = "127.0.0.1";
};

Profile test_profile() {
  auto p = load_profile("");
  EXPECT_TRUE(p);
  return *p;
}

class SmtpServiceTest : public testing::Test {
 protected:
  SmtpServiceTest()
      : profile_(test_profile()), reactor_(engine::ReactorOptions{0, -1, 64}), limiter_(100, 10) {
    EXPECT_TRUE(reactor_.init());
    open_spool();
  }

  void open_spool() {
    smtp_.reset();
    spool_.reset();
    spool_ = std::make_unique<spool::SpoolShard>(io_, spool::ShardOptions{"/spool/shard-000", 0});
    ASSERT_TRUE(spool_->open());
    smtp_ = std::make_unique<SmtpService>(reactor_, profile_, *spool_, limiter_);
  }

  struct Client {
    RecordingConnection conn;
    std::unique_ptr<net::ConnectionHandler> handler;
  };

  std::unique_ptr<Client> connect() {
    auto c = std::make_unique<Client>();
    c->handler = smtp_->make_handler(c->conn);
    c->handler->on_open();
    return c;
  }

  static std::string transaction(int n) {
    return "MAIL FROM:<a@sender.example>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
           "Subject: " +
           std::to_string(n) + "\r\n\r\nbody " + std::to_string(n) + "\r\n.\r\n";
  }

  // One reactor iteration's worth of work: the group commit, then its completions.
  void iterate() {
    spool_->flush();
    io_.run_pending();
  }

  Profile profile_;
  engine::Reactor reactor_;
  ConnectionLimiter limiter_;
  volume::FakeFileIo io_;
  std::unique_ptr<spool::SpoolShard> spool_;
  std::unique_ptr<SmtpService> smtp_;
};

TEST_F(SmtpServiceTest, NoAcknowledgementBeforeDatasync) {
  auto c = connect();
  c->handler->on_data("EHLO client\r\n" + transaction(1));
  EXPECT_EQ(c->conn.sent.find("250 2.0.0"), std::string::npos);
  spool_->flush();
  EXPECT_EQ(c->conn.sent.find("250 2.0.0"), std::string::npos);  // write + sync queued only
  io_.run_pending();
  EXPECT_NE(c->conn.sent.find("250 2.0.0 Ok: queued as"), std::string::npos) << c->conn.sent;
  EXPECT_EQ(spool_->live_messages(), 1u);
}

TEST_F(SmtpServiceTest, FailedDatasyncAnswers451ToTheWholeGroup) {
  auto a = connect();
  auto b = connect();
  a->handler->on_data("EHLO a\r\n" + transaction(1));
  b->handler->on_data("EHLO b\r\n" + transaction(2));
  io_.inject(volume::FakeFileIo::Fault::eio_on_datasync);
  iterate();
  for (auto* c : {a.get(), b.get()}) {
    EXPECT_NE(c->conn.sent.find("451 4.3.0"), std::string::npos) << c->conn.sent;
    EXPECT_EQ(c->conn.sent.find("250 2.0.0 Ok"), std::string::npos) << c->conn.sent;
  }
  // Service goes on: the next message is stored and acknowledged.
  a->handler->on_data(transaction(3));
  iterate();
  EXPECT_NE(a->conn.sent.find("250 2.0.0 Ok: queued as"), std::string::npos) << a->conn.sent;
  // After a power cut only the acknowledged message comes back.
  a->handler->on_closed();
  b->handler->on_closed();
  a.reset();
  b.reset();
  io_.crash();
  open_spool();
  EXPECT_EQ(spool_->live_messages(), 1u);
}

TEST_F(SmtpServiceTest, ShortWriteAndEnospcNeverAcknowledge) {
  for (auto fault :
       {volume::FakeFileIo::Fault::short_write, volume::FakeFileIo::Fault::enospc_on_write}) {
    auto c = connect();
    c->handler->on_data("EHLO a\r\n" + transaction(1));
    io_.inject(fault);
    iterate();
    EXPECT_NE(c->conn.sent.find("451 4.3.0"), std::string::npos) << c->conn.sent;
    EXPECT_EQ(c->conn.sent.find("250 2.0.0 Ok"), std::string::npos) << c->conn.sent;
    c->handler->on_closed();
  }
  EXPECT_EQ(spool_->live_messages(), 0u);
}

TEST_F(SmtpServiceTest, ClientVanishingMidMessageStoresNothing) {
  auto c = connect();
  c->handler->on_data(
      "EHLO a\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
      "Subject: cut\r\n\r\npartial");
  c->handler->on_closed();
  c.reset();
  iterate();
  EXPECT_EQ(spool_->live_messages(), 0u);
  io_.crash();
  open_spool();
  EXPECT_EQ(spool_->live_messages(), 0u);
}

TEST_F(SmtpServiceTest, RelayDeniedAndLocalAccepted) {
  auto c = connect();
  c->handler->on_data(
      "EHLO a\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<v@elsewhere.example>\r\n"
      "RCPT TO:<b@EXAMPLE.test>\r\nRCPT TO:<postmaster>\r\n");
  EXPECT_NE(c->conn.sent.find("554 5.7.1"), std::string::npos) << c->conn.sent;
  EXPECT_EQ(c->conn.sent.find("550"), std::string::npos) << c->conn.sent;
}

TEST_F(SmtpServiceTest, ConnectionLimitPerClientAnswers421) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(connect());
  auto extra = connect();
  EXPECT_EQ(extra->conn.sent.rfind("421 4.7.0", 0), 0u) << extra->conn.sent;
  EXPECT_TRUE(extra->conn.closed);
  clients[0]->handler->on_closed();
  clients[0].reset();
  auto again = connect();
  EXPECT_EQ(again->conn.sent.rfind("220 ", 0), 0u) << again->conn.sent;
}

TEST_F(SmtpServiceTest, ShutdownLetsTransactionFinish) {
  auto busy = connect();
  auto idle = connect();
  busy->handler->on_data("EHLO a\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.test>\r\n");
  idle->handler->on_data("EHLO b\r\n");
  smtp_->begin_shutdown();
  EXPECT_NE(idle->conn.sent.find("421 4.3.2"), std::string::npos) << idle->conn.sent;
  EXPECT_TRUE(idle->conn.closed);
  EXPECT_FALSE(busy->conn.closed);
  busy->handler->on_data("DATA\r\nSubject: x\r\n\r\nlate\r\n.\r\n");
  iterate();
  auto ok = busy->conn.sent.find("250 2.0.0 Ok");
  auto bye = busy->conn.sent.find("421 4.3.2");
  ASSERT_NE(ok, std::string::npos) << busy->conn.sent;
  ASSERT_NE(bye, std::string::npos) << busy->conn.sent;
  EXPECT_LT(ok, bye);
  EXPECT_TRUE(busy->conn.closed);
}

std::shared_ptr<const directory::Directory> make_directory(uint64_t version, bool bob_exists) {
  directory::DirectoryData d;
  d.version = version;
  d.domains.push_back({"example.com", {}, ""});
  d.accounts.push_back({"alice", "example.com", "Alice", "", directory::kAllServices, 0});
  d.accounts.push_back({"carol", "example.com", "Carol", "", directory::service_imap, 0});
  if (bob_exists)
    d.accounts.push_back({"bob", "example.com", "Bob", "", directory::kAllServices, 0});
  d.account_aliases.push_back({"al", "example.com", "alice"});
  auto built = directory::Directory::build(std::move(d));
  EXPECT_TRUE(built) << built.error().message;
  return *built;
}

TEST_F(SmtpServiceTest, RcptAnswersComeFromTheDirectorySnapshot) {
  smtp_->set_directory(make_directory(1, false));
  auto c = connect();
  c->handler->on_data("EHLO a\r\nMAIL FROM:<x@sender.example>\r\n");
  struct Case {
    const char* rcpt;
    const char* reply;
  };
  for (const Case& k :
       {Case{"alice@example.com", "250 2.1.5"}, Case{"AL@Example.COM", "250 2.1.5"},
        Case{"nobody@example.com", "550 5.1.1"}, Case{"carol@example.com", "550 5.2.1"},
        Case{"b@example.test", "554 5.7.1"},  // the profile's domain no longer
        Case{"postmaster@example.com", "250 2.1.5"}}) {
    c->conn.sent.clear();
    c->handler->on_data(std::string("RCPT TO:<") + k.rcpt + ">\r\n");
    EXPECT_EQ(c->conn.sent.rfind(k.reply, 0), 0u) << k.rcpt << ": " << c->conn.sent;
  }
}

TEST_F(SmtpServiceTest, NewSnapshotTakesEffectBetweenTransactions) {
  smtp_->set_directory(make_directory(1, false));
  auto c = connect();
  c->handler->on_data("EHLO a\r\nMAIL FROM:<x@sender.example>\r\nRCPT TO:<alice@example.com>\r\n");
  smtp_->set_directory(make_directory(2, true));
  c->conn.sent.clear();
  c->handler->on_data("RCPT TO:<bob@example.com>\r\n");
  EXPECT_EQ(c->conn.sent.rfind("550 5.1.1", 0), 0u) << c->conn.sent;  // same transaction
  c->conn.sent.clear();
  c->handler->on_data("RSET\r\nMAIL FROM:<x@sender.example>\r\nRCPT TO:<bob@example.com>\r\n");
  EXPECT_NE(c->conn.sent.find("250 2.1.5"), std::string::npos) << c->conn.sent;
}

}  // namespace
}  // namespace postcore::server
