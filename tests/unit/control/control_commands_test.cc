// The admin API's command handlers over a real store in a temporary directory: arguments
// are read strictly, errors carry the store's errno and message, passwords are hashed and
// never shown, every change is audited with the caller's uid, and a snapshot is published
// after each change (and only then).
#include "control/server/control_commands.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "control/auth/password_verify.h"
#include "control/directory/snapshot_file.h"

namespace postcore::control {
namespace {

using nlohmann::json;

class ControlCommandsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "commands-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    snapshots_ = dir_ + "/control";
    std::filesystem::create_directories(snapshots_);
    auto opened = store::Store::open(dir_ + "/config.db", {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    commands_ = std::make_unique<ControlCommands>(*store_, snapshots_);
  }
  void TearDown() override {
    commands_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<json> run(const std::string& command, json args = json::object()) {
    return commands_->dispatch(Peer{1, 1234, 1234}, command, args);
  }
  json ok(const std::string& command, json args = json::object()) {
    auto r = run(command, std::move(args));
    EXPECT_TRUE(r.ok()) << command << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : json();
  }
  std::string stored_hash(const std::string& address) {
    auto account = store_->get_account(address);
    return account.ok() ? account->password_hash : "";
  }

  std::string dir_, snapshots_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ControlCommands> commands_;
};

TEST_F(ControlCommandsTest, ArgumentsAreReadStrictly) {
  struct Case {
    const char* command;
    json args;
    int code;
    const char* message;
  };
  const Case cases[] = {
      {"no.such", json::object(), EINVAL, "unknown command \"no.such\""},
      {"domain.add", json::object(), EINVAL, "domain.add: argument \"name\" is required"},
      {"domain.add", {{"name", 7}}, EINVAL, "domain.add: argument \"name\" must be a string"},
      {"domain.add",
       {{"name", "example.com"}, {"colour", "blue"}},
       EINVAL,
       "domain.add: unknown argument \"colour\""},
      {"status", {{"verbose", true}}, EINVAL, "status: unknown argument \"verbose\""},
  };
  for (const Case& c : cases) {
    auto r = run(c.command, c.args);
    ASSERT_FALSE(r.ok()) << c.command << " " << c.args.dump();
    EXPECT_EQ(r.error().code, c.code) << c.args.dump();
    EXPECT_EQ(r.error().message, c.message);
  }
  // Nothing was created by any of them.
  EXPECT_EQ(ok("status")["domains"], 0);
}

TEST_F(ControlCommandsTest, ChangesArePublishedAndAudited) {
  ok("domain.add", {{"name", "Example.COM"}, {"aliases", {"example.net"}}});
  auto stamp = directory::snapshot_stamp(snapshots_);
  ASSERT_TRUE(stamp.ok()) << stamp.error().message;
  json status = ok("status");
  EXPECT_EQ(status["published_version"], status["directory_version"]);

  ok("account.add", {{"address", "alice@example.net"}, {"real_name", "Alice"}});
  auto data = directory::load_snapshot(snapshots_);
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->accounts.size(), 1u);
  EXPECT_EQ(data->accounts[0].name, "alice");
  EXPECT_EQ(data->accounts[0].domain, "example.com");

  // A failed change and a read publish nothing new.
  const uint64_t version = ok("status")["published_version"];
  EXPECT_FALSE(run("account.add", {{"address", "alice@example.com"}}).ok());
  ok("account.list", {{"domain", "example.com"}});
  EXPECT_EQ(ok("status")["published_version"], version);

  json audit = ok("audit", {{"limit", 1}});
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"], "account.add");
  EXPECT_EQ(audit[0]["object"], "alice@example.com");
  EXPECT_EQ(audit[0]["uid"], 1234);
}

TEST_F(ControlCommandsTest, MissingObjectsAndConflictsKeepTheStoresErrno) {
  ok("domain.add", {{"name", "example.com"}});
  auto missing = run("account.show", {{"address", "zed@example.com"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  ok("account.add", {{"address", "alice@example.com"}});
  auto taken = run("group.add", {{"address", "alice@example.com"}});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, EEXIST);
  ok("group.add", {{"address", "a@example.com"}});
  ok("group.add", {{"address", "b@example.com"}, {"members", {"a@example.com"}}});
  auto cycle = run("group.members.add", {{"group", "a@example.com"}, {"member", "b@example.com"}});
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.error().code, ELOOP);
  auto services = run("account.add", {{"address", "x@example.com"}, {"services", {"ftp"}}});
  ASSERT_FALSE(services.ok());
  EXPECT_EQ(services.error().message, "unknown service \"ftp\" (smtp, pop, imap or none)");
}

TEST_F(ControlCommandsTest, PasswordsAreHashedAndNeverShown) {
  ok("domain.add", {{"name", "example.com"}});
  ok("account.add", {{"address", "alice@example.com"}, {"password", "s3cret"}});
  const std::string hash = stored_hash("alice@example.com");
  EXPECT_EQ(hash.rfind("$y$", 0), 0u) << hash;
  EXPECT_TRUE(*auth::verify_password(hash, "s3cret"));
  json shown = ok("account.show", {{"address", "alice@example.com"}});
  EXPECT_EQ(shown["has_password"], true);
  EXPECT_EQ(shown.dump().find("$y$"), std::string::npos);
  EXPECT_EQ(ok("audit").dump().find("s3cret"), std::string::npos);
}

TEST_F(ControlCommandsTest, CopiesAreSetReplacedAndCleared) {
  ok("domain.add", {{"name", "example.com"}});
  ok("account.add", {{"address", "bob@example.com"}, {"copies_to", {"Bob@Home.example"}}});
  EXPECT_EQ(ok("account.show", {{"address", "bob@example.com"}})["copies_to"],
            json({"Bob@home.example"}));
  // account.set without copies_to leaves them; with a list replaces them; [] clears them.
  ok("account.set", {{"address", "bob@example.com"}, {"real_name", "Bob"}});
  EXPECT_EQ(ok("account.show", {{"address", "bob@example.com"}})["copies_to"].size(), 1u);
  ok("account.set",
     {{"address", "bob@example.com"}, {"copies_to", {"a@x.example", "b@x.example"}}});
  EXPECT_EQ(ok("account.show", {{"address", "bob@example.com"}})["copies_to"],
            json({"a@x.example", "b@x.example"}));
  ok("account.set", {{"address", "bob@example.com"}, {"copies_to", json::array()}});
  EXPECT_TRUE(ok("account.show", {{"address", "bob@example.com"}})["copies_to"].empty());
  auto bad = run("account.set", {{"address", "bob@example.com"}, {"copies_to", "a@x.example"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "account.set: argument \"copies_to\" must be a list of strings");
}

TEST_F(ControlCommandsTest, RehashTakesOnlyYescryptAndOnlyOverTheOldHash) {
  ok("domain.add", {{"name", "example.com"}});
  ok("account.add", {{"address", "alice@example.com"}});
  ASSERT_TRUE(store_
                  ->update_account({0, "test"}, "alice@example.com",
                                   store::AccountChanges{{}, "{SSHA}old", {}, {}})
                  .ok());
  // libxcrypt's own yescrypt hash of "pw" (mkpasswd -m yescrypt pw).
  const std::string yescrypt =
      "$y$j9T$ZIo5f1ki3wd9wvCZsZJ700$VW/k54eNEYqxrly8PSxJvBvA67Op8guCskIMZNt5HQ2";
  ASSERT_TRUE(*auth::verify_password(yescrypt, "pw"));

  auto refused = run(
      "account.rehash",
      {{"address", "alice@example.com"}, {"old_hash", "{SSHA}old"}, {"new_hash", "$6$salt$hash"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "new_hash: not a yescrypt hash");
  EXPECT_EQ(stored_hash("alice@example.com"), "{SSHA}old");

  json first =
      ok("account.rehash",
         {{"address", "alice@example.com"}, {"old_hash", "{SSHA}old"}, {"new_hash", yescrypt}});
  EXPECT_EQ(first["replaced"], true);
  EXPECT_EQ(stored_hash("alice@example.com"), yescrypt);
  auto data = directory::load_snapshot(snapshots_);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->accounts[0].password_hash, yescrypt);

  json late =
      ok("account.rehash",
         {{"address", "alice@example.com"}, {"old_hash", "{SSHA}old"}, {"new_hash", yescrypt}});
  EXPECT_EQ(late["replaced"], false);
}

}  // namespace
}  // namespace postcore::control
