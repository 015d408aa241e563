// The owner of a volume set's member state: the keeper runs what it is handed in order, on
// a thread of its own, and a reactor that finds a member failing hands the failure to it and
// goes on, while the write that found it is answered only once the members still in are
// durably at the generation that excludes the failed one.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mirror_test_fixture.h"
#include "queue/volume/keeper.h"

namespace postcore::volume {
namespace {

using namespace std::chrono_literals;

TEST(Keeper, RunsTasksInOrderOnItsOwnThread) {
  std::vector<int> ran;
  std::thread::id where;
  {
    Keeper keeper;
    for (int i = 0; i < 100; i++) keeper.post([&ran, i] { ran.push_back(i); });
    keeper.call([&] { where = std::this_thread::get_id(); });
    EXPECT_EQ(ran.size(), 100u);  // call() came after them, and waited
    EXPECT_NE(where, std::this_thread::get_id());
    for (int i = 100; i < 200; i++) keeper.post([&ran, i] { ran.push_back(i); });
  }  // the destructor runs what is still queued
  ASSERT_EQ(ran.size(), 200u);
  for (int i = 0; i < 200; i++) EXPECT_EQ(ran[i], i);
}

TEST(Keeper, ACallFromATaskRunsAtOnce) {
  Keeper keeper;
  int order = 0, inner = -1, outer = -1;
  keeper.call([&] {
    keeper.call([&] { inner = order++; });  // would wait for itself if it were queued
    outer = order++;
  });
  EXPECT_EQ(inner, 0);
  EXPECT_EQ(outer, 1);
}

// What the keeper posts back, for the test's thread to run as a reactor would.
class Inbox {
 public:
  void post(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    fns_.push_back(std::move(fn));
    cv_.notify_one();
  }
  // Runs the next thing that arrives; false after 10 s without one.
  bool run_one() {
    bool ran = false;
    return run_until([&] {
      if (ran) return true;
      ran = true;
      return false;
    });
  }
  // Runs what arrives until `until` holds; false after 10 s without it.
  bool run_until(const std::function<bool()>& until) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!until()) {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_until(lock, deadline, [&] { return !fns_.empty(); })) return false;
      auto fn = std::move(fns_.front());
      fns_.pop_front();
      lock.unlock();
      fn();
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> fns_;
};

class KeeperMirrorTest : public MirrorTest {
 protected:
  void SetUp() override {
    // A meta write that was given up on may reach its FIFO after the test closed the read
    // end: it should fail with EPIPE, not end the test program.
    ::signal(SIGPIPE, SIG_IGN);
    MirrorTest::SetUp();
    io_.reset();
    set_.reset();
    for (const std::string& root : roots_) std::filesystem::remove_all(root);
    roots_ = {dir_ + "/m0", dir_ + "/m1", dir_ + "/m2"};
    open_set();
    ASSERT_EQ(set_->healthy_count(), 3u);
    io_ = std::make_unique<MirroredFileIo>(
        set_, fake_, [this](std::function<void()> fn) { deferred_.push_back(std::move(fn)); }, 30s,
        [this](std::function<void()> fn) { inbox_.post(std::move(fn)); });
  }
  void TearDown() override {
    if (fifo_reader_ >= 0) ::close(fifo_reader_);
    MirrorTest::TearDown();
  }
  // Lets the keeper's blocked open of the FIFO go on.
  void unblock_fifo(const std::string& fifo) {
    if (fifo_reader_ < 0) fifo_reader_ = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  }

  Inbox inbox_;
  int fifo_reader_ = -1;
};

// Member 2 fails a write while member 0's meta cannot be written until someone reads its
// FIFO (a disk that takes its time): the core's completions go on, other writes are
// answered meanwhile, and the failed write is answered only after the keeper has moved
// member 1 to the new generation.
TEST_F(KeeperMirrorTest, AFailureIsRecordedByTheKeeperWhileTheCoreGoesOn) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto first = io_->open(logical("first"), O_RDWR | O_CREAT, 0640);
  auto second = io_->open(logical("second"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  const uint64_t generation = set_->generation();
  const std::string fifo = roots_[0] + "/volume.meta.tmp";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m2/");
  int wrote = 1;
  std::string meta_when_answered;
  io_->write(*first, 0, "waiting", 7, [&](int r) {
    wrote = r;
    meta_when_answered = read_text(roots_[1] + "/volume.meta");
  });
  auto completions = std::async(std::launch::async, [&] { fake_.run_pending(); });
  const bool went_on = completions.wait_for(5s) == std::future_status::ready;
  if (!went_on) unblock_fifo(fifo);  // the core waited on the keeper: let it end
  completions.get();
  ASSERT_TRUE(went_on) << "the core's completions waited for the keeper";
  EXPECT_EQ(wrote, 1);  // not answered before the failure is recorded
  EXPECT_EQ(io_->waiting_on_keeper(), 1u);

  // The core serves other writes meanwhile: every member still takes them.
  int wrote_second = 1;
  io_->write(*second, 0, "other", 5, [&](int r) { wrote_second = r; });
  fake_.run_pending();
  EXPECT_EQ(wrote_second, 5);
  EXPECT_EQ(fake_.contents(member(2, "second")), "other");
  EXPECT_EQ(wrote, 1);

  unblock_fifo(fifo);
  ASSERT_TRUE(inbox_.run_until([&] { return wrote != 1; }));
  EXPECT_EQ(wrote, 7);  // member 1 holds it and is healthy
  // Member 0's raise failed, perhaps after its rename: member 1 moved once more, past it.
  EXPECT_NE(meta_when_answered.find("generation " + std::to_string(generation + 2)),
            std::string::npos)
      << meta_when_answered;
  EXPECT_EQ(io_->waiting_on_keeper(), 0u);
  EXPECT_FALSE(set_->healthy(2));
  EXPECT_FALSE(set_->healthy(0));  // a FIFO cannot be fsynced: its meta could not be raised
  EXPECT_TRUE(set_->healthy(1));
  auto status = set_->status();
  EXPECT_NE(status[0].reason.find("cannot raise the generation"), std::string::npos)
      << status[0].reason;
  EXPECT_NE(status[2].reason.find("write to"), std::string::npos) << status[2].reason;
}

// Two members fail one write: it is answered only once the keeper has recorded both, so
// the member that holds it is at a generation that excludes both when the caller hears.
TEST_F(KeeperMirrorTest, AWriteWaitsForEveryFailureItFound) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  const uint64_t generation = set_->generation();
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/");
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m2/");
  int wrote = 1;
  std::string meta_when_answered;
  io_->write(*fd, 0, "kept", 4, [&](int r) {
    wrote = r;
    meta_when_answered = read_text(roots_[0] + "/volume.meta");
  });
  fake_.run_pending();
  EXPECT_EQ(io_->waiting_on_keeper(), 2u);
  ASSERT_TRUE(inbox_.run_one());  // the first failure is recorded; the second may not be
  EXPECT_EQ(wrote, 1);
  ASSERT_TRUE(inbox_.run_until([&] { return wrote != 1; }));
  EXPECT_EQ(wrote, 4);
  EXPECT_NE(meta_when_answered.find("generation " + std::to_string(generation + 2)),
            std::string::npos)
      << meta_when_answered;
}

// Instance B's failure of member 0 is recorded while instance A's write, which only member 0
// took, waits for its own failures: A hears -EIO, since what took its write is out by then.
TEST_F(KeeperMirrorTest, AWriteHeldOnlyByAMemberTakenOutMeanwhileFails) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  MirroredFileIo other(
      set_, fake_, [this](std::function<void()> fn) { deferred_.push_back(std::move(fn)); }, 30s,
      [this](std::function<void()> fn) { inbox_.post(std::move(fn)); });
  auto a = io_->open(logical("a"), O_RDWR | O_CREAT, 0640);
  auto b = other.open(logical("b"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  // The keeper is held in the first failure's raise until the FIFO is read, so that A's
  // answer from member 0 comes while member 0 is still healthy.
  const std::string fifo = roots_[2] + "/volume.meta.tmp";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m0/b");
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/a");
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m2/a");
  int wrote_b = 1, wrote_a = 1;
  other.write(*b, 0, "bb", 2, [&](int r) { wrote_b = r; });
  io_->write(*a, 0, "aa", 2, [&](int r) { wrote_a = r; });
  fake_.run_pending();
  EXPECT_TRUE(set_->healthy(0));  // not yet taken out
  unblock_fifo(fifo);
  ASSERT_TRUE(inbox_.run_until([&] { return wrote_a != 1 && wrote_b != 1; }));
  EXPECT_EQ(wrote_a, -EIO);
  EXPECT_FALSE(set_->healthy(0));
}

// An instance destroyed while the keeper still holds one of its failures waits for the
// keeper (which posts to the instance's thread), and the keeper's answer then finds it gone.
TEST_F(KeeperMirrorTest, AnInstanceWaitsForTheKeeperBeforeItGoes) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  const std::string fifo = roots_[0] + "/volume.meta.tmp";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m2/");
  int calls = 0;
  io_->write(*fd, 0, "x", 1, [&](int) { calls++; });
  fake_.run_pending();
  auto gone = std::async(std::launch::async, [&] { io_.reset(); });
  const bool waited = gone.wait_for(300ms) == std::future_status::timeout;
  unblock_fifo(fifo);
  gone.get();
  EXPECT_TRUE(waited) << "the instance went while the keeper still held its failure";
  ASSERT_TRUE(inbox_.run_one());  // the keeper's answer: nobody is there to hear it
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(set_->healthy(2));
}

// A failure handed over for what was in a slot before (taken out since, and now being
// rebuilt) leaves the member there now alone.
TEST_F(KeeperMirrorTest, ALateFailureOfWhatWasInASlotBeforeLeavesTheNewMemberBe) {
  const uint64_t before = set_->incarnation(2);
  set_->fail(2, EIO, "test");
  ASSERT_TRUE(set_->begin_resilver(2).ok());
  bool done = false;
  set_->fail_then(2, before, EIO, "late", [&] { done = true; });
  set_->settle();
  EXPECT_TRUE(done);
  EXPECT_TRUE(set_->writable(2));
  EXPECT_EQ(set_->status()[2].state, MemberState::resilvering);
  set_->fail_then(2, set_->incarnation(2), EIO, "now", [] {});
  set_->settle();
  EXPECT_FALSE(set_->writable(2));
  EXPECT_EQ(set_->status()[2].state, MemberState::degraded);
}

// A member that does not answer the write of its meta within the timeout is degraded
// like one that failed it, and the failure that needed the write is recorded without it.
TEST_F(KeeperMirrorTest, AMetaWriteThatHangsDegradesItsMemberAfterTheTimeout) {
  io_.reset();
  set_.reset();
  auto set = VolumeSet::open(dir_ + "/logical", roots_, dir_ + "/status", 2000ms);
  ASSERT_TRUE(set.ok()) << set.error().message;
  set_ = *set;
  const uint64_t generation = set_->generation();
  const std::string fifo = roots_[0] + "/volume.meta.tmp";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  set_->fail(2, EIO, "test");  // returns: the hung write of member 0 is not waited for
  EXPECT_FALSE(set_->healthy(0));
  EXPECT_NE(set_->status()[0].reason.find("no answer in 2000 ms"), std::string::npos)
      << set_->status()[0].reason;
  EXPECT_TRUE(set_->healthy(1));
  EXPECT_GT(set_->generation(), generation);
  EXPECT_NE(read_text(roots_[1] + "/volume.meta")
                .find("generation " + std::to_string(set_->generation())),
            std::string::npos);
  unblock_fifo(fifo);  // the abandoned write ends
}

}  // namespace
}  // namespace postcore::volume
