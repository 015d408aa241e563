// The configuration store on a mirrored volume set (volume_vfs.h): every commit reaches
// every member with a checksum on each page, a damaged page is never served, a member
// that fails is taken out while the store goes on, the copies of the log are reconciled
// after a crash, and a store made before checksums existed is converted.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "control/store/store.h"
#include "control/store/volume_vfs.h"
#include "queue/volume/fake_file_io.h"
#include "queue/volume/mirror_file_io.h"
#include "queue/volume/posix_file_io.h"
#include "queue/volume/volume_set.h"

namespace postcore::store {
namespace {

namespace fs = std::filesystem;
using volume::FakeFileIo;

const Actor kActor{0, "test"};

std::string temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "volume-store-XXXXXX").string();
  return mkdtemp(pattern.data());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A two-member set whose members' files live in a FakeFileIo (the members' volume.meta
// files are real, in a temporary directory).
class VolumeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    roots_ = {dir_ + "/m0", dir_ + "/m1"};
    open_set();
  }
  void TearDown() override {
    store_.reset();
    files_.reset();
    set_.reset();  // its status writer is done with the directory
    fs::remove_all(dir_);
  }

  void open_set() {
    store_.reset();
    files_.reset();
    auto set = volume::VolumeSet::open(dir_ + "/logical", roots_, dir_ + "/status");
    ASSERT_TRUE(set.ok()) << set.error().message;
    set_ = *set;
    for (const std::string& root : roots_) fake_.put_directories(root);
    files_ = std::make_unique<volume::MirroredFileIo>(
        set_, fake_, [](std::function<void()>) { FAIL() << "no asynchronous calls here"; });
  }

  Result<std::unique_ptr<Store>> open_store() {
    StoreOptions options;
    options.files = files_.get();
    options.fail_at = [this](std::string_view point) { return point == skip_; };
    return Store::open(dir_ + "/logical/config.db", options);
  }

  void open_or_fail() {
    store_.reset();
    auto store = open_store();
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }

  void add_domains(int from, int to) {
    for (int i = from; i < to; i++) {
      auto r = store_->add_domain(kActor, "d" + std::to_string(i) + ".test");
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
  }

  std::vector<std::string> domains() {
    std::vector<std::string> names;
    auto list = store_->list_domains();
    EXPECT_TRUE(list.ok()) << list.error().message;
    if (list)
      for (const auto& d : *list) names.push_back(d.name);
    return names;
  }

  std::string member_file(size_t m, const std::string& name) { return roots_[m] + "/" + name; }

  volume::MemberStatus status(size_t m) { return set_->status()[m]; }

  std::string dir_;
  std::vector<std::string> roots_;
  FakeFileIo fake_;
  std::shared_ptr<volume::VolumeSet> set_;
  std::unique_ptr<volume::MirroredFileIo> files_;
  std::unique_ptr<Store> store_;
  std::string skip_;  // a failure point of StoreOptions::fail_at to trip
};

void expect_every_page_checksummed(const std::string& db) {
  ASSERT_FALSE(db.empty());
  auto format = parse_database_header(db);
  ASSERT_TRUE(format.has_value());
  EXPECT_EQ(format->reserve, static_cast<uint32_t>(kPageReserve));
  ASSERT_EQ(db.size() % format->page_size, 0u);
  for (size_t at = 0; at < db.size(); at += format->page_size)
    EXPECT_TRUE(page_checksum_ok(db.data() + at, format->page_size)) << "page at " << at;
}

TEST_F(VolumeStoreTest, EveryCommitReachesEveryMemberWithPageChecksums) {
  open_or_fail();
  add_domains(0, 20);
  // The log is folded into the database after each commit: the database alone holds it.
  std::string db0 = fake_.durable_contents(member_file(0, "config.db"));
  EXPECT_EQ(db0, fake_.durable_contents(member_file(1, "config.db")));
  EXPECT_EQ(fake_.contents(member_file(0, "config.db-wal")), "");
  expect_every_page_checksummed(db0);
  EXPECT_FALSE(fake_.exists(dir_ + "/logical/config.db"));
  EXPECT_EQ(domains().size(), 20u);
}

TEST_F(VolumeStoreTest, DamagedPagesAreNeverServedAndAreMendedFromTheOtherMember) {
  open_or_fail();
  add_domains(0, 200);
  store_.reset();
  const std::string db = fake_.contents(member_file(0, "config.db"));
  const size_t page = parse_database_header(db)->page_size;
  const size_t pages = db.size() / page;
  ASSERT_GE(pages, 4u);
  // Every page is damaged on one member or the other; the first one in its header's magic.
  for (size_t p = 0; p < pages; p++)
    fake_.flip_bit(member_file(p % 2, "config.db"), p * page + (p == 0 ? 3 : 57));
  open_set();
  open_or_fail();
  auto list = domains();
  ASSERT_EQ(list.size(), 200u);
  EXPECT_EQ(list.front(), "d0.test");
  EXPECT_EQ(status(0).state, volume::MemberState::healthy);
  EXPECT_EQ(status(1).state, volume::MemberState::healthy);
  // Reads mended the damaged copies they came across; the scrub finds every other one.
  const uint64_t mended_by_reads = status(0).repaired + status(1).repaired;
  auto report = store_->scrub();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->pages, pages);
  EXPECT_EQ(report->mended, pages - mended_by_reads);
  EXPECT_EQ(status(0).repaired + status(1).repaired, pages);
  EXPECT_EQ(report->unreadable, 0u);
  EXPECT_EQ(fake_.contents(member_file(0, "config.db")),
            fake_.contents(member_file(1, "config.db")));
  expect_every_page_checksummed(fake_.contents(member_file(0, "config.db")));
}

TEST_F(VolumeStoreTest, APageDamagedOnEveryMemberIsNeverServed) {
  open_or_fail();
  add_domains(0, 50);
  store_.reset();
  const std::string db = fake_.contents(member_file(0, "config.db"));
  const size_t page = parse_database_header(db)->page_size;
  // Every page but the first, alike on both members: no good copy is left.
  for (size_t m = 0; m < 2; m++)
    for (size_t at = page; at < db.size(); at += page)
      fake_.flip_bit(member_file(m, "config.db"), at + page - 100);
  open_set();
  open_or_fail();
  auto list = store_->list_domains();
  ASSERT_FALSE(list.ok()) << list->size() << " domains read from damaged pages";
  EXPECT_NE(list.error().message.find("disk I/O error"), std::string::npos) << list.error().message;
}

TEST_F(VolumeStoreTest, ALogOnSomeMembersOnlyIsNotAFailure) {
  open_or_fail();
  add_domains(0, 3);
  store_.reset();
  // As after a crash between making the log on one member and on the other.
  fake_.put_file(member_file(0, "config.db-wal"), "");
  fake_.remove_file(member_file(1, "config.db-wal"));
  open_set();
  open_or_fail();
  EXPECT_EQ(domains().size(), 3u);
  EXPECT_EQ(status(0).state, volume::MemberState::healthy);
  EXPECT_EQ(status(1).state, volume::MemberState::healthy);
}

TEST_F(VolumeStoreTest, MemberThatFailsIsTakenOutWhileTheStoreGoesOn) {
  open_or_fail();
  add_domains(0, 3);
  const uint64_t generation = set_->generation();
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/");
  add_domains(3, 6);
  EXPECT_EQ(status(1).state, volume::MemberState::degraded);
  EXPECT_EQ(domains().size(), 6u);
  EXPECT_GT(set_->generation(), generation);
  fake_.inject(FakeFileIo::Fault::eio_on_sync, 1, "/m0/");
  auto lost = store_->add_domain(kActor, "last.test");
  EXPECT_FALSE(lost.ok()) << "the last member failed: nothing may be acknowledged";
  EXPECT_EQ(status(0).state, volume::MemberState::degraded);
}

TEST_F(VolumeStoreTest, CommittedChangesSurvivePowerLossOnEveryMember) {
  open_or_fail();
  add_domains(0, 5);
  skip_ = "checkpoint";  // the last commits stay in the log, as when power fails right after
  add_domains(5, 8);
  ASSERT_NE(fake_.durable_contents(member_file(0, "config.db-wal")), "");
  fake_.crash();
  store_.reset();  // its descriptors are gone with the crash: closing it writes nothing
  skip_.clear();
  open_set();
  open_or_fail();
  EXPECT_EQ(domains().size(), 8u);
  EXPECT_EQ(fake_.contents(member_file(0, "config.db")),
            fake_.contents(member_file(1, "config.db")));
}

TEST_F(VolumeStoreTest, LogCopiesAreReconciledBeforeRecovery) {
  open_or_fail();
  add_domains(0, 2);
  skip_ = "checkpoint";
  add_domains(2, 5);
  fake_.crash();
  store_.reset();
  skip_.clear();
  // Member 0's copy of the log lost its last commit; member 1's copy is whole.
  const std::string wal = fake_.contents(member_file(0, "config.db-wal"));
  const uint64_t whole = wal_committed_length(wal);
  ASSERT_GT(whole, 0u);
  fake_.flip_bit(member_file(0, "config.db-wal"), whole - 100);
  ASSERT_LT(wal_committed_length(fake_.contents(member_file(0, "config.db-wal"))), whole);
  open_set();
  open_or_fail();
  EXPECT_EQ(domains().size(), 5u);
  EXPECT_EQ(status(0).repaired, 1u);
  EXPECT_EQ(fake_.contents(member_file(0, "config.db")),
            fake_.contents(member_file(1, "config.db")));
}

// A real log written by SQLite itself, cut and damaged.
TEST(WalCommittedLength, FollowsSqlitesChecksumChainAndCommits) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/t.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const char* sql) {
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  };
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA wal_autocheckpoint = 0");
  exec("PRAGMA synchronous = NORMAL");
  exec("CREATE TABLE t (x TEXT)");
  exec("INSERT INTO t VALUES (hex(randomblob(3000)))");
  const std::string one = read_file(path + "-wal");
  exec("INSERT INTO t VALUES (hex(randomblob(3000)))");
  const std::string two = read_file(path + "-wal");
  sqlite3_close(db);
  fs::remove_all(dir);

  ASSERT_GT(two.size(), one.size());
  EXPECT_EQ(wal_committed_length(one), one.size());
  EXPECT_EQ(wal_committed_length(two), two.size());
  // The second commit torn off or damaged: recovery keeps the first.
  EXPECT_EQ(wal_committed_length(two.substr(0, two.size() - 1)), one.size());
  std::string damaged = two;
  damaged[one.size() + 24 + 100] ^= 1;
  EXPECT_EQ(wal_committed_length(damaged), one.size());
  // A damaged header: nothing is committed.
  damaged = two;
  damaged[12] ^= 1;
  EXPECT_EQ(wal_committed_length(damaged), 0u);
  EXPECT_EQ(wal_committed_length(""), 0u);
  EXPECT_EQ(wal_committed_length(two.substr(0, 31)), 0u);
}

TEST(VolumeStoreOpen, StoreWithoutPageChecksumsIsConverted) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/config.db";
  {
    auto plain = Store::open(path);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    ASSERT_TRUE((*plain)->add_domain(kActor, "kept.test").ok());
  }
  volume::PosixFileIo posix;
  StoreOptions options;
  options.files = &posix;
  {
    auto store = Store::open(path, options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto list = (*store)->list_domains();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].name, "kept.test");
    ASSERT_TRUE((*store)->add_domain(kActor, "new.test").ok());
    expect_every_page_checksummed(read_file(path));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace postcore::store
