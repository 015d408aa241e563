// Synchronous calls of a mirrored set are bounded: a member whose disk stops answering an
// open or an fsync is degraded after the timeout and the call completes on the others, over
// real files. The disk that stops answering is a SyscallFileIo that blocks its calls on one
// member until the test lets them go.
#include "queue/volume/member_calls.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "queue/volume/mirror_file_io.h"
#include "queue/volume/posix_file_io.h"

namespace postcore::volume {
namespace {

using namespace std::chrono_literals;

// A gate the test holds shut until it lets everything waiting at it through.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    waiting_++;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  bool someone_waits_within(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

TEST(MemberCalls, AMemberThatDoesNotAnswerIsGivenUpAndItsLateValueDiscarded) {
  MemberCalls calls;
  Gate gate;
  std::atomic<int> discarded{0};
  std::vector<MemberCalls::Call> batch(3);
  batch[0] = [] { return Result<int>(10); };
  batch[1] = [&] {
    gate.wait();
    return Result<int>(42);
  };
  batch[2] = [] { return Result<int>(make_error(EIO, "broken")); };
  auto answers = calls.run(batch, 2000ms, [&](int value) { discarded = value; });
  ASSERT_EQ(answers.size(), 3u);
  ASSERT_TRUE(answers[0] && *answers[0]);
  EXPECT_EQ(**answers[0], 10);
  EXPECT_FALSE(answers[1]);
  ASSERT_TRUE(answers[2]);
  EXPECT_EQ(answers[2]->error().code, EIO);

  // The next call for that member (a replaced disk in the same slot) does not wait behind
  // the stuck one: it runs on a thread of its own and answers.
  std::vector<MemberCalls::Call> again(2);
  again[0] = [] { return Result<int>(11); };
  again[1] = [] { return Result<int>(7); };
  auto second = calls.run(again, 2000ms, [&](int value) { discarded = value; });
  ASSERT_TRUE(second[0] && *second[0]);
  ASSERT_TRUE(second[1] && *second[1]);
  EXPECT_EQ(**second[1], 7);
  EXPECT_TRUE(gate.someone_waits_within(0ms));  // the first is still stuck meanwhile

  gate.open();
  for (int i = 0; i < 200 && discarded == 0; i++) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(discarded, 42);
}

TEST(MemberCalls, CallsOfDifferentMembersRunAtOnce) {
  MemberCalls calls;
  Gate both;
  std::atomic<int> arrived{0};
  std::vector<MemberCalls::Call> batch(2);
  for (auto& call : batch) {
    call = [&] {
      // Neither returns before the other has started: sequential calls would time out.
      if (++arrived == 2) both.open();
      both.wait();
      return Result<int>(-1);
    };
  }
  auto answers = calls.run(batch, 5000ms, [](int) {});
  EXPECT_TRUE(answers[0] && *answers[0]);
  EXPECT_TRUE(answers[1] && *answers[1]);
}

// Real files; opens, fdatasyncs and reads of files under `stuck_root` wait at the gate.
class StoppingDisk final : public SyscallFileIo {
 public:
  explicit StoppingDisk(std::string stuck_root) : stuck_root_(std::move(stuck_root)) {}

  Result<int> open(const std::string& path, int flags, mode_t mode) override {
    const bool stuck = path.rfind(stuck_root_ + "/", 0) == 0;
    if (stuck && stopped_) gate_.wait();
    auto fd = SyscallFileIo::open(path, flags, mode);
    if (fd && stuck) {
      std::lock_guard lock(mu_);
      stuck_fds_.insert(*fd);
    }
    return fd;
  }
  Result<void> sync(int fd) override {
    if (stuck(fd) && stopped_) gate_.wait();
    return SyscallFileIo::sync(fd);
  }
  Result<size_t> read(int fd, uint64_t offset, void* buf, size_t len) override {
    if (stuck(fd) && stopped_) gate_.wait();
    return SyscallFileIo::read(fd, offset, buf, len);
  }
  void write(int, uint64_t, const void*, size_t, IoCallback) override { std::abort(); }
  void datasync(int, IoCallback) override { std::abort(); }

  void stop() { stopped_ = true; }
  Gate& gate() { return gate_; }

 private:
  bool stuck(int fd) {
    std::lock_guard lock(mu_);
    return stuck_fds_.count(fd) != 0;
  }

  std::string stuck_root_;
  std::atomic<bool> stopped_{false};
  Gate gate_;
  std::mutex mu_;
  std::set<int> stuck_fds_;
};

size_t open_descriptors() {
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    n++;
  }
  return n;
}

class BoundedSyncCalls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "bounded-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    disk_ = std::make_unique<StoppingDisk>(dir_ + "/m1");
    auto set = VolumeSet::open(dir_ + "/logical", {dir_ + "/m0", dir_ + "/m1"}, dir_ + "/status");
    ASSERT_TRUE(set.ok()) << set.error().message;
    set_ = *set;
    io_ = std::make_unique<MirroredFileIo>(
        set_, *disk_, [](std::function<void()> fn) { fn(); }, 2000ms);
  }
  void TearDown() override {
    disk_->gate().open();
    io_.reset();
    set_.reset();  // its status writer is done with the directory
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<StoppingDisk> disk_;
  std::shared_ptr<VolumeSet> set_;
  std::unique_ptr<MirroredFileIo> io_;
};

TEST_F(BoundedSyncCalls, AnFsyncThatNeverAnswersDegradesTheMember) {
  auto fd = io_->open(dir_ + "/logical/segment", O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ASSERT_TRUE(io_->write_at(*fd, 0, "hello", 5).ok());
  disk_->stop();
  auto synced = io_->sync(*fd);
  EXPECT_TRUE(synced.ok()) << synced.error().message;
  // It returned while member 1's fsync is still held at the gate.
  EXPECT_TRUE(disk_->gate().someone_waits_within(0ms));
  EXPECT_TRUE(set_->healthy(0));
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_EQ(set_->status()[1].reason,
            "sync " + dir_ + "/logical/segment: " + std::strerror(ETIMEDOUT));
  // The set goes on with the member that answers.
  EXPECT_TRUE(io_->write_at(*fd, 5, " world", 6).ok());
  EXPECT_TRUE(io_->sync(*fd).ok());
  ASSERT_TRUE(io_->close(*fd).ok());
}

TEST_F(BoundedSyncCalls, AReadThatNeverAnswersDegradesTheMemberAndAnotherServesIt) {
  auto fd = io_->open(dir_ + "/logical/data", O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ASSERT_TRUE(io_->write_at(*fd, 0, "hello world", 11).ok());
  ASSERT_TRUE(io_->sync(*fd).ok());
  disk_->stop();
  // Reads go to the members in turn: one of two goes to member 1, and is given up on.
  for (int i = 0; i < 2; i++) {
    char buf[11];
    auto got = io_->read(*fd, 0, buf, sizeof(buf));
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(std::string(buf, *got), "hello world");
  }
  EXPECT_TRUE(disk_->gate().someone_waits_within(0ms));
  EXPECT_TRUE(set_->healthy(0));
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_EQ(set_->status()[1].reason,
            "read of " + dir_ + "/logical/data: " + std::strerror(ETIMEDOUT));
  ASSERT_TRUE(io_->close(*fd).ok());
}

TEST_F(BoundedSyncCalls, AnOpenThatAnswersLateLeavesNoDescriptorBehind) {
  const size_t before = open_descriptors();
  disk_->stop();
  auto fd = io_->open(dir_ + "/logical/late", O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_FALSE(set_->healthy(1));
  ASSERT_TRUE(disk_->gate().someone_waits_within(5s));
  ASSERT_TRUE(io_->close(*fd).ok());
  disk_->gate().open();
  // The late open's descriptor is closed by the member's thread when it answers.
  size_t now = open_descriptors();
  for (int i = 0; i < 200 && now != before; i++) {
    std::this_thread::sleep_for(10ms);
    now = open_descriptors();
  }
  EXPECT_EQ(now, before);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/m0/late"));
}

}  // namespace
}  // namespace postcore::volume
