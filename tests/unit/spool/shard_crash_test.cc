// Power loss at every step of a busy scenario: after each possible crash point, start-up
// must find every acknowledged message byte-identical, every acknowledged DONE mark, and
// nothing that was aborted or never committed.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "queue/spool/spool_shard.h"
#include "spool_test_support.h"

namespace postcore::spool {
namespace {

using testing::content_of;
using testing::make_body;
using testing::make_envelope;
using testing::settle;

ShardOptions crash_options() {
  ShardOptions o;
  o.dir = "/data/spool/shard-001";
  o.shard = 1;
  o.segment_bytes = 12 << 10;
  o.write_buffer_bytes = 4 << 10;
  o.chunk_bytes = 2 << 10;
  return o;
}

class Scenario {
 public:
  // torn_seed 0: everything not synced is lost; otherwise part of it survives, torn.
  Scenario(size_t crash_at, uint64_t torn_seed) : crash_at_(crash_at), torn_seed_(torn_seed) {}

  // Runs until the crash point (true) or to the end (false).
  bool run() {
    shard_ = std::make_unique<SpoolShard>(io_, crash_options());
    if (!shard_->open().ok()) {
      ADD_FAILURE() << "open failed";
      return false;
    }
    body();
    if (crashed_) {
      if (torn_seed_ == 0) {
        io_.crash();
      } else {
        io_.crash_torn(torn_seed_ * 7919 + crash_at_);
      }
      shard_.reset();
    }
    return crashed_;
  }

  void check_recovery() {
    auto shard = std::make_unique<SpoolShard>(io_, crash_options());
    auto report = shard->open();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->corruption.empty()) << "torn write taken for corruption " << where();
    EXPECT_TRUE(report->damaged_messages.empty()) << where();
    tail_bytes_ = report->tail_bytes_dropped;
    verify(*shard);
    // The recovered shard keeps working, and a clean restart agrees with it.
    std::optional<Result<void>> result;
    testing::store(*shard, make_envelope("after@example.org", {"x@example.net"}), "after crash",
                   &result);
    settle(*shard, io_);
    ASSERT_TRUE(result && result->ok());
    const size_t live = shard->live_messages();
    shard.reset();
    shard = std::make_unique<SpoolShard>(io_, crash_options());
    ASSERT_TRUE(shard->open().ok());
    EXPECT_EQ(shard->live_messages(), live);
    verify(*shard);
  }

  size_t acknowledged() const { return acked_.size(); }
  uint64_t tail_bytes() const { return tail_bytes_; }
  size_t steps() const { return steps_; }

 private:
  struct Stored {
    std::string body;
    std::string sender;
  };

  std::string where() const {
    return "(crash at step " + std::to_string(crash_at_) + ", torn seed " +
           std::to_string(torn_seed_) + ")";
  }

  bool step() {
    if (steps_++ == crash_at_) crashed_ = true;
    return !crashed_;
  }

  // flush + every completion, one completion per step.
  bool drain() {
    for (int round = 0; round < 100; round++) {
      if (!step()) return false;
      shard_->flush();
      if (io_.pending() == 0 && shard_->idle()) return true;
      while (io_.pending() > 0) {
        if (!step()) return false;
        io_.run_one();
      }
    }
    ADD_FAILURE() << "shard never became idle";
    return false;
  }

  bool append_in_pieces(SpoolShard::Handle h, const std::string& body, size_t piece) {
    for (size_t at = 0; at < body.size(); at += piece) {
      if (!step()) return false;
      shard_->append(h, std::string_view(body).substr(at, piece));
    }
    return true;
  }

  bool begin(const std::string& sender, SpoolShard::Handle* h, std::string* id) {
    if (!step()) return false;
    auto handle = shard_->begin(make_envelope(sender, {"one@example.net", "two@example.net"}));
    EXPECT_TRUE(handle.ok());
    *h = *handle;
    *id = shard_->queue_id(*h);
    uncommitted_.insert(*id);
    return true;
  }

  bool commit(SpoolShard::Handle h, const std::string& id, Stored stored) {
    if (!step()) return false;
    uncommitted_.erase(id);
    committed_[id] = std::move(stored);
    shard_->commit(h, [this, id](Result<void> r) {
      EXPECT_TRUE(r.ok()) << r.error().message;
      if (r) acked_.insert(id);
    });
    return true;
  }

  bool mark_done(const std::string& id, uint32_t recipient) {
    if (!step()) return false;
    shard_->mark_done(id, recipient, [this, id, recipient](Result<void> r) {
      EXPECT_TRUE(r.ok()) << r.error().message;
      if (r) done_acked_[id].insert(recipient);
    });
    return true;
  }

  void body() {
    std::vector<std::string> acked_order;
    for (int round = 0; round < 6; round++) {
      SpoolShard::Handle a, b, c;
      std::string a_id, b_id, c_id;
      const std::string a_body = make_body(400 + round * 50, round * 3);
      const std::string b_body = make_body(9000 + round * 700, round * 3 + 1);
      const std::string c_body = make_body(5000, round * 3 + 2);
      const std::string sender = "s" + std::to_string(round) + "@example.org";
      if (!begin(sender, &a, &a_id) || !begin(sender, &b, &b_id) || !begin(sender, &c, &c_id))
        return;
      for (size_t at = 0; at < b_body.size(); at += 1500) {
        if (at < a_body.size() && !append_in_pieces(a, a_body.substr(at, 1500), 700)) return;
        if (!append_in_pieces(b, b_body.substr(at, 1500), 1500)) return;
        if (at < c_body.size() && !append_in_pieces(c, c_body.substr(at, 1500), 1500)) return;
      }
      if (!commit(a, a_id, {a_body, sender})) return;
      if (!step()) return;
      shard_->abort(c);
      uncommitted_.erase(c_id);
      aborted_.insert(c_id);
      if (!commit(b, b_id, {b_body, sender})) return;
      if (!drain()) return;
      acked_order.push_back(a_id);
      acked_order.push_back(b_id);

      // Delivery catches up with older messages: one recipient, then both.
      if (round >= 1) {
        if (!mark_done(acked_order[round * 2 - 2], 0)) return;
        if (!mark_done(acked_order[round * 2 - 1], 1)) return;
        if (!drain()) return;
      }
      if (round >= 2) {
        const std::string& old = acked_order[round * 2 - 4];
        if (!mark_done(old, 1) || !drain()) return;
        const std::string& older = acked_order[round * 2 - 3];
        if (!mark_done(older, 0) || !drain()) return;
        if (!step()) return;
        EXPECT_TRUE(shard_->reclaim().ok());
        if (!drain()) return;
        if (!step()) return;
        EXPECT_TRUE(shard_->reclaim().ok());
        if (!drain()) return;
      }
    }
  }

  void verify(const SpoolShard& shard) {
    for (const std::string& id : acked_) {
      const auto& done = done_acked_[id];
      if (done.size() == 2) {
        EXPECT_FALSE(shard.find(id).ok()) << id << " was fully done " << where();
        continue;
      }
      auto info = shard.find(id);
      ASSERT_TRUE(info.ok()) << "acknowledged " << id << " lost " << where();
      for (uint32_t r : done) EXPECT_TRUE(info->done.test(r)) << id;
      auto content = content_of(shard, id);
      ASSERT_TRUE(content.ok()) << content.error().message;
      EXPECT_TRUE(*content == committed_[id].body) << id << " differs " << where();
      auto envelope = shard.read_envelope(id);
      ASSERT_TRUE(envelope.ok());
      EXPECT_EQ(envelope->mail_from, committed_[id].sender);
    }
    // Anything else found must at least have been committed (a crash between the
    // datasync and the acknowledgement leaves such a message: the client retries).
    shard.for_each_message([&](const MessageInfo& m) {
      if (m.queue_id.size() != 20) return;
      EXPECT_FALSE(aborted_.count(m.queue_id)) << "aborted " << m.queue_id << " came back";
      EXPECT_FALSE(uncommitted_.count(m.queue_id)) << "uncommitted " << m.queue_id << " came back";
      if (!committed_.count(m.queue_id)) return;  // stored after the recovery
      auto content = content_of(shard, m.queue_id);
      ASSERT_TRUE(content.ok());
      EXPECT_TRUE(*content == committed_[m.queue_id].body);
    });
  }

  volume::FakeFileIo io_;
  std::unique_ptr<SpoolShard> shard_;
  size_t crash_at_;
  uint64_t torn_seed_;
  uint64_t tail_bytes_ = 0;
  size_t steps_ = 0;
  bool crashed_ = false;
  std::map<std::string, Stored> committed_;
  std::set<std::string> acked_;
  std::set<std::string> aborted_;
  std::set<std::string> uncommitted_;
  std::map<std::string, std::set<uint32_t>> done_acked_;
};

TEST(ShardCrash, EveryAcknowledgedMessageSurvivesACrashAtEveryStep) {
  size_t crash_points = 0;
  for (size_t crash_at = 0;; crash_at++) {
    Scenario scenario(crash_at, 0);
    if (!scenario.run()) {
      // The scenario ran to its end without crashing: it must have done all its work.
      EXPECT_EQ(scenario.acknowledged(), 12u);
      EXPECT_EQ(crash_points, scenario.steps());
      break;
    }
    crash_points++;
    scenario.check_recovery();
    if (::testing::Test::HasFatalFailure()) break;
  }
  EXPECT_GT(crash_points, 200u);
}

TEST(ShardCrash, TornUnsyncedWritesAreNeverTakenForCorruption) {
  uint64_t tails = 0;
  size_t crash_points = 0;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    for (size_t crash_at = 0;; crash_at++) {
      Scenario scenario(crash_at, seed);
      if (!scenario.run()) break;
      crash_points++;
      scenario.check_recovery();
      if (::testing::Test::HasFatalFailure()) return;
      tails += scenario.tail_bytes() > 0;
    }
  }
  EXPECT_GT(crash_points, 800u);
  EXPECT_GT(tails, 100u) << "the torn crashes should leave torn tails to drop";
}

}  // namespace
}  // namespace postcore::spool
