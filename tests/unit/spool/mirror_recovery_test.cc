// Recovery of a mirrored spool after a crash, when the copies of the segment that was being
// written disagree: one disk lost its last write, one holds bit rot, or both. Every
// acknowledged message must come back, byte-identical, and the copies must agree again.
// Also the ordering rules that recovery relies on: SEAL only after everything before it is
// durable; a write is acknowledged only while a member that did it is still healthy; a
// rebuilt member joins at the new generation last.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mirror_test_fixture.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_scan.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/small_file.h"
#include "spool_test_support.h"

namespace postcore::volume {
namespace {

constexpr size_t kMessages = 20;

class MirrorRecoveryTest : public MirrorTest {
 protected:
  std::string shard_dir() { return dir_ + "/logical/spool/shard-003"; }
  std::string segment() { return "spool/shard-003/" + spool::segment_file_name(1); }

  // Stores one message and waits for its acknowledgement.
  void store_acknowledged(spool::SpoolShard& shard, std::string body,
                          const std::string& recipient = "r@example.net") {
    std::optional<Result<void>> committed;
    bodies_.push_back(std::move(body));
    ids_.push_back(
        spool::testing::store(shard, spool::testing::make_envelope("s@example.org", {recipient}),
                              bodies_.back(), &committed));
    spool::testing::settle(shard, fake_);
    EXPECT_TRUE(committed && committed->ok());
  }

  // Stores kMessages, each acknowledged before the next, then crashes with the segment
  // left unsealed. Returns the durable image both members hold.
  std::string store_and_crash() {
    spool::SpoolShard shard(*io_, spool::testing::test_options(shard_dir()));
    EXPECT_TRUE(shard.open().ok());
    for (uint32_t i = 0; i < kMessages; i++)
      store_acknowledged(shard, spool::testing::make_body(500 + i * 61, i));
    fake_.crash();  // kill -9 and a power cut: the segment is left unsealed
    const std::string image = fake_.durable_contents(member(0, segment()));
    EXPECT_EQ(image, fake_.durable_contents(member(1, segment())));
    return image;
  }

  // Restarts on what the members hold and checks that every acknowledged message is
  // there, byte-identical, once, and that both copies agree with `image`.
  void expect_everything_back(const std::string& image) {
    open_set();
    spool::SpoolShard shard(*io_, spool::testing::test_options(shard_dir()));
    auto report = shard.open();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->corruption.empty()) << report->corruption[0].what;
    EXPECT_TRUE(report->damaged_messages.empty());
    EXPECT_EQ(report->messages, kMessages);
    EXPECT_EQ(shard.live_messages(), kMessages);
    for (size_t i = 0; i < ids_.size(); i++) {
      auto content = spool::testing::content_of(shard, ids_[i]);
      ASSERT_TRUE(content.ok()) << ids_[i] << ": " << content.error().message;
      EXPECT_EQ(content->size(), bodies_[i].size()) << ids_[i];
      EXPECT_TRUE(*content == bodies_[i]) << ids_[i];
    }
    spool::testing::settle(shard, fake_);
    // Both copies hold the same records again (the recovered segment is sealed after them).
    const std::string a = fake_.durable_contents(member(0, segment()));
    const std::string b = fake_.durable_contents(member(1, segment()));
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.substr(0, image.size()), image);
    EXPECT_TRUE(set_->healthy(0));
    EXPECT_TRUE(set_->healthy(1));
  }

  // Runs `damage` once with each member as `side`, on a fresh set each time.
  template <typename Damage>
  void on_each_side(Damage damage) {
    for (size_t side : {0u, 1u}) {
      SCOPED_TRACE(side);
      TearDown();
      SetUp();
      ids_.clear();
      bodies_.clear();
      const std::string image = store_and_crash();
      damage(side, image);
      expect_everything_back(image);
    }
  }

  std::vector<std::string> ids_, bodies_;
};

// Bit rot in acknowledged records of one copy: the records are read from the other, and
// the damaged copy is mended (and the repairs counted on its member).
TEST_F(MirrorRecoveryTest, BitRotInOneCopyIsReadPastAndMended) {
  on_each_side([&](size_t rotted, const std::string&) {
    for (uint64_t at : {200u, 3000u, 7001u}) fake_.flip_bit(member(rotted, segment()), at, 2);
  });
  EXPECT_GT(set_->status()[1].repaired, 0u);  // member 1 was the last side damaged
}

// The case that mirroring exists for: one disk lost its final write. The copy that lacks
// the last acknowledged group still ends on whole records, and no MARK covers that group.
TEST_F(MirrorRecoveryTest, ACopyShortOfItsLastWriteIsMendedFromTheLongerOne) {
  on_each_side([&](size_t shortened, const std::string& image) {
    fake_.put_file(member(shortened, segment()), image.substr(0, image.size() - 1500));
  });
}

// A torn final write on one member and bit rot in an earlier, acknowledged record on the
// other: neither copy alone holds everything; together they do.
TEST_F(MirrorRecoveryTest, ATornTailOnOneCopyAndBitRotInTheOthersEarlierRecord) {
  on_each_side([&](size_t shortened, const std::string& image) {
    fake_.put_file(member(shortened, segment()), image.substr(0, image.size() - 1500));
    fake_.flip_bit(member(1 - shortened, segment()), 3000, 4);
  });
}

// Bit rot inside the last group of one copy (which its own MARKs cannot tell from a torn
// tail) and a lost END record on the other: the records past the second copy's end are
// taken from the first.
TEST_F(MirrorRecoveryTest, RotInOneCopysLastGroupAndALostEndRecordInTheOther) {
  on_each_side([&](size_t rotted, const std::string& image) {
    fake_.flip_bit(member(rotted, segment()), image.size() - 100, 1);
    fake_.put_file(member(1 - rotted, segment()), image.substr(0, image.size() - 30));
  });
}

// Copies that end at different places after an ordinary crash (each member's unsynced tail
// is its own) are cut back to the records every copy agrees on, and nothing is lost; also
// when the copy that is read has no tail and only the other one does.
TEST_F(MirrorRecoveryTest, UnsyncedTailsOfDifferentLengthsAreCutOnEveryCopy) {
  const std::string image = store_and_crash();
  fake_.put_file(member(0, segment()), image + std::string(700, '\x5a'));
  fake_.put_file(member(1, segment()), image + std::string(90, '\0'));
  expect_everything_back(image);

  TearDown();
  SetUp();
  ids_.clear();
  bodies_.clear();
  const std::string again = store_and_crash();
  fake_.put_file(member(1, segment()), again + std::string(700, '\x5a'));
  expect_everything_back(again);
}

// SEAL says that the whole file before it is durable: it is never written in the same
// write as records whose datasync has not completed.
TEST_F(MirrorRecoveryTest, SealFollowsOnlyRecordsThatAreDurable) {
  FakeFileIo io;
  spool::SpoolShard shard(io, spool::testing::test_options("/spool"));
  ASSERT_TRUE(shard.open().ok());
  std::optional<Result<void>> committed;
  spool::testing::store(shard, spool::testing::make_envelope("s@example.org", {"r@example.net"}),
                        spool::testing::make_body(900, 7), &committed);
  shard.seal_active();  // the commit's END is not yet durable
  const std::string path = "/spool/" + spool::segment_file_name(1);
  auto sealed_now = [&] {
    auto fd = io.open(path, O_RDONLY, 0);
    EXPECT_TRUE(fd.ok());
    auto scan =
        spool::scan_segment(io, *fd, [](const spool::RecordHeader&, uint64_t, std::string_view) {});
    (void)io.close(*fd);
    return scan.ok() && scan->sealed;
  };
  shard.flush();
  ASSERT_TRUE(io.run_one());  // the write of the commit's records, not yet synced
  EXPECT_FALSE(sealed_now());
  spool::testing::settle(shard, io);
  ASSERT_TRUE(committed && committed->ok());
  EXPECT_TRUE(sealed_now());
  EXPECT_TRUE(io.exists("/spool/" + spool::index_file_name(1)));
}

// A member that answered a write and was taken out before the last member answered holds
// nothing anyone will read: the write is not acknowledged when no member that did it is
// left. The same for a datasync.
TEST_F(MirrorTest, ASuccessFromAMemberTakenOutSinceDoesNotCount) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/");
  int wrote = 1;
  io_->write(*fd, 0, "twelve bytes", 12, [&](int r) { wrote = r; });
  ASSERT_TRUE(fake_.run_one());                // member 0: written
  set_->fail(0, EIO, "another core's write");  // and taken out meanwhile
  run();                                       // member 1: EIO
  EXPECT_EQ(wrote, -EIO);
  EXPECT_EQ(set_->healthy_count(), 0u);
}

TEST_F(MirrorTest, ADatasyncThatEndsWithNoHealthyMemberFails) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(write_and_sync(*fd, 0, "data"), 0);
  fake_.inject(FakeFileIo::Fault::eio_on_datasync, 1, "/m1/");
  int synced = 1;
  io_->datasync(*fd, [&](int r) { synced = r; });
  ASSERT_TRUE(fake_.run_one());  // member 0: synced
  set_->fail(0, EIO, "another core's write");
  run();
  EXPECT_EQ(synced, -EIO);
}

// While the members still in move to the generation that excludes a failing member, it
// still takes every write (other cores see it healthy): nothing is acknowledged without it
// before the others' metas exclude it. Member 0's new meta is written through a FIFO,
// whose open waits for a reader: the test looks while fail() waits there.
TEST_F(MirrorTest, AFailingMemberTakesWritesUntilTheOthersExcludeIt) {
  const std::string tmp = roots_[0] + "/volume.meta.tmp";
  ASSERT_EQ(::mkfifo(tmp.c_str(), 0600), 0);
  std::thread failing([&] { set_->fail(1, EIO, "test"); });
  // The set's keeper writes the metas, on threads of the members' that it starts (and that
  // carry its name); one waits in the FIFO's open.
  auto keeper_in_openat = [] {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name != "volume-keeper") continue;
      std::ifstream in(task.path() / "syscall");
      long nr = -1;
      in >> nr;
      if (nr == SYS_openat) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!keeper_in_openat() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!keeper_in_openat()) {
    failing.join();
    FAIL() << "fail() never wrote member 0's meta";
  }
  EXPECT_TRUE(set_->healthy(1));
  EXPECT_TRUE(set_->writable(1));
  const int fd = ::open(tmp.c_str(), O_RDONLY);  // lets fail() go on
  char buf[256];
  while (fd >= 0 && ::read(fd, buf, sizeof buf) > 0) {
  }
  if (fd >= 0) ::close(fd);
  failing.join();
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_FALSE(set_->writable(1));
}

// At the end of a resilver the healthy members move to the new generation first: when they
// cannot, the rebuilt member is not left alone at a generation newer than theirs (it would
// be the only member trusted at the next start).
TEST_F(MirrorTest, ARebuiltMemberJoinsTheNewGenerationLast) {
  set_->fail(1, EIO, "test");
  const uint64_t generation = set_->generation();
  ASSERT_TRUE(set_->begin_resilver(1).ok());
  std::filesystem::remove_all(roots_[0]);  // member 0's meta can no longer be written
  EXPECT_FALSE(set_->finish_resilver(1).ok());
  EXPECT_FALSE(set_->healthy(1));
  auto meta = parse_volume_meta(read_text(roots_[1] + "/volume.meta"));
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  EXPECT_LT(meta->generation, generation + 1);
}

// A record that fails its CRC on one copy while the appliance runs is read from the other
// and the bad copy is mended: never served, and not left damaged (DESIGN.md rule 4).
TEST_F(MirrorRecoveryTest, AReadThatFailsItsCheckOnOneCopyIsServedFromAnotherAndMended) {
  spool::SpoolShard shard(*io_, spool::testing::test_options(shard_dir()));
  ASSERT_TRUE(shard.open().ok());
  for (uint32_t i = 0; i < 4; i++)
    store_acknowledged(shard, spool::testing::make_body(3000 + i * 100, i),
                       "r" + std::to_string(i) + "@x.net");
  // Five CHUNK records (4 KiB each in the test options): damage in the fourth comes after
  // three pieces went to the reader, which must not get them twice.
  store_acknowledged(shard, spool::testing::make_body(20000, 9));
  const std::string good = fake_.durable_contents(member(0, segment()));
  // Message 2's content damaged on member 0; message 3's envelope and message 4's fourth
  // chunk on member 1.
  const size_t body2 = good.find(bodies_[2].substr(0, 64));
  const size_t envelope3 = good.find("r3@x.net");
  const size_t chunk4 = good.find(bodies_[4].substr(12300, 64));
  ASSERT_NE(body2, std::string::npos);
  ASSERT_NE(envelope3, std::string::npos);
  ASSERT_NE(chunk4, std::string::npos);
  fake_.flip_bit(member(0, segment()), body2 + 1000, 5);
  fake_.flip_bit(member(1, segment()), envelope3, 2);
  fake_.flip_bit(member(1, segment()), chunk4 + 10, 3);
  for (int round = 0; round < 3; round++) {  // reads go to the members in turn
    for (size_t i : {2u, 4u}) {
      auto content = spool::testing::content_of(shard, ids_[i]);
      ASSERT_TRUE(content.ok()) << content.error().message;
      EXPECT_EQ(content->size(), bodies_[i].size()) << ids_[i];
      EXPECT_TRUE(*content == bodies_[i]) << ids_[i];
    }
    auto envelope = shard.read_envelope(ids_[3]);
    ASSERT_TRUE(envelope.ok()) << envelope.error().message;
    EXPECT_EQ(envelope->recipients.at(0).address, "r3@x.net");
  }
  EXPECT_EQ(fake_.durable_contents(member(0, segment())), good);
  EXPECT_EQ(fake_.durable_contents(member(1, segment())), good);
  EXPECT_TRUE(set_->healthy(0));
  EXPECT_TRUE(set_->healthy(1));
}

// The directories acknowledgements depend on (member roots, shard directories) are created
// with their names made durable; what cannot be made is an error that names it.
TEST_F(MirrorTest, DirectoriesAreCreatedDurablyOrRefusedByName) {
  const std::string deep = dir_ + "/made/one/two";
  ASSERT_TRUE(create_directories_durably(deep).ok());
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_TRUE(create_directories_durably(deep + "/").ok());  // there already: fine
  std::ofstream(dir_ + "/plain") << "a file";
  auto refused = create_directories_durably(dir_ + "/plain/below");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ENOTDIR);
  EXPECT_NE(refused.error().message.find(dir_ + "/plain/below"), std::string::npos);
}

}  // namespace
}  // namespace postcore::volume
