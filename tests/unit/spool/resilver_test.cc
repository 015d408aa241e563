// The resilver's safety rules: it copies only copies that verify, and it copies only after
// every change issued before the member joined has landed.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mirror_test_fixture.h"
#include "queue/volume/resilver.h"

namespace postcore::volume {
namespace {

void put(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A stand-in for the spool's checks: a file under spool/ is intact when it says so.
Result<void> says_intact(FileIo& io, int fd, const std::string& relative) {
  if (!relative.starts_with("spool/")) return {};
  std::string head(6, '\0');
  auto got = io.read(fd, 0, head.data(), head.size());
  if (!got) return got.error();
  if (head.substr(0, *got) != "intact") return make_error(EBADMSG, "a damaged record");
  return {};
}

class ResilverTest : public MirrorTest {
 protected:
  void three_members() {
    roots_.push_back(dir_ + "/m2");
    open_set();
  }
  void wait_until_resilvering(size_t m) {
    while (set_->status()[m].state != MemberState::resilvering)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};

// A latent bad sector on the member the rebuild reads first is not copied onto the new
// disk: the copy of another healthy member that verifies is. Files the check does not know
// come from the first member as before.
TEST_F(ResilverTest, ACopyThatFailsItsChecksIsTakenFromAnotherMember) {
  three_members();
  put(member(0, "spool/shard-000/seg-00000001.log"), "intAct, a bit flipped");
  put(member(1, "spool/shard-000/seg-00000001.log"), "intact, and still whole: .");
  put(member(0, "spool/shard-000/seg-00000002.log"), "intact on the first member");
  put(member(0, "other"), "unchecked");
  set_->fail(2, EIO, "test");
  ResilverOptions options;
  options.verify = says_intact;
  auto r = resilver(*set_, 2, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->from_other_copy, 1u);
  EXPECT_TRUE(r->damaged.empty());
  EXPECT_EQ(read_text(member(2, "spool/shard-000/seg-00000001.log")), "intact, and still whole: .");
  EXPECT_EQ(read_text(member(2, "spool/shard-000/seg-00000002.log")), "intact on the first member");
  EXPECT_EQ(read_text(member(2, "other")), "unchecked");
  EXPECT_TRUE(set_->healthy(2));
}

// With no copy that verifies, the file is copied as it is (the rebuild cannot make it
// worse) and named in the report.
TEST_F(ResilverTest, AFileWithNoGoodCopyIsCopiedAndReported) {
  put(member(0, "spool/shard-000/seg-00000001.log"), "rotten");
  set_->fail(1, EIO, "test");
  ResilverOptions options;
  options.verify = says_intact;
  auto r = resilver(*set_, 1, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->damaged.size(), 1u);
  EXPECT_NE(r->damaged[0].find("spool/shard-000/seg-00000001.log: no copy verifies"),
            std::string::npos)
      << r->damaged[0];
  EXPECT_NE(r->damaged[0].find("a damaged record"), std::string::npos) << r->damaged[0];
  EXPECT_EQ(read_text(member(1, "spool/shard-000/seg-00000001.log")), "rotten");
}

// A write issued before the member joined goes to the others only. The rebuild waits until
// it has landed, so its bytes are copied, however long it takes (up to the drain timeout).
TEST_F(ResilverTest, ChangesIssuedBeforeTheMemberJoinedLandBeforeTheCopy) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  set_->fail(1, EIO, "test");
  put(member(0, "f"), "landed ");
  int written = 1;
  io_->write(*fd, 7, "late", 4, [&](int r) { written = r; });  // held by the fake
  std::atomic<bool> done{false};
  Result<ResilverReport> r = make_error(EINVAL, "not run");
  std::thread rebuild([&] {
    ResilverOptions options;
    options.drain_timeout = std::chrono::minutes(5);
    r = resilver(*set_, 1, options);
    done = true;
  });
  wait_until_resilvering(1);
  // Time for a rebuild that did not wait to finish its copy without these bytes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done);
  put(member(0, "f"), "landed late");  // the write reaches the disk, then is answered
  run();
  EXPECT_EQ(written, 4);
  rebuild.join();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_text(member(1, "f")), "landed late");
  EXPECT_TRUE(set_->healthy(1));
}

// A change that never lands within the drain timeout ends the rebuild: the member is not
// made healthy on a copy that may lack it.
TEST_F(ResilverTest, AChangeThatNeverLandsEndsTheRebuild) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  set_->fail(1, EIO, "test");
  io_->write(*fd, 0, "held", 4, [](int) {});
  ResilverOptions options;
  options.drain_timeout = std::chrono::milliseconds(20);
  auto r = resilver(*set_, 1, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_EQ(set_->status()[1].state, MemberState::degraded);
  run();
}

// Changes are counted under the epoch they saw; a new epoch does not wait for its own.
TEST_F(ResilverTest, DrainingWaitsForEarlierEpochsOnly) {
  const uint64_t before = set_->changes_begin();
  set_->fail(1, EIO, "test");  // a new epoch
  const uint64_t after = set_->changes_begin();
  EXPECT_GT(after, before);
  EXPECT_FALSE(set_->drained_before(after, std::chrono::milliseconds(0)));
  set_->changes_end(before);
  EXPECT_TRUE(set_->drained_before(after, std::chrono::milliseconds(0)));
  set_->changes_end(after);
}

}  // namespace
}  // namespace postcore::volume
