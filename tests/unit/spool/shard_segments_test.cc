// Segment rotation, indexes, start-up recovery, DONE marks, reclaiming and corruption.
#include <gtest/gtest.h>

#include <map>

#include "queue/spool/queue_id.h"
#include "queue/spool/spool_shard.h"
#include "spool_test_support.h"

namespace postcore::spool {
namespace {

using testing::content_of;
using testing::make_body;
using testing::make_envelope;
using testing::settle;
using testing::store;
using testing::test_options;

class ShardSegments : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  RecoveryReport reopen(bool crash = false) {
    if (shard_) settle(*shard_, io_);
    shard_.reset();
    if (crash) io_.crash();
    shard_ = std::make_unique<SpoolShard>(io_, options_);
    auto report = shard_->open();
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report ? *report : RecoveryReport{};
  }

  // Stores `count` messages of `size` bytes with two recipients each.
  void fill(int count, size_t size = 3000) {
    for (int i = 0; i < count; i++) {
      std::optional<Result<void>> result;
      const int n = static_cast<int>(bodies_.size());
      const std::string body = make_body(size, n);
      const std::string id =
          store(*shard_, make_envelope("s@example.org", {"a@example.net", "b@example.net"}), body,
                &result);
      settle(*shard_, io_);
      ASSERT_TRUE(result && result->ok());
      bodies_[id] = body;
    }
  }

  void expect_all_intact() {
    size_t live = 0;
    shard_->for_each_message([&](const MessageInfo&) { live++; });
    EXPECT_EQ(live, bodies_.size());
    EXPECT_EQ(shard_->live_messages(), bodies_.size());
    for (const auto& [id, body] : bodies_) {
      auto content = content_of(*shard_, id);
      ASSERT_TRUE(content.ok()) << id << ": " << content.error().message;
      EXPECT_TRUE(*content == body) << id;
    }
  }

  std::vector<uint32_t> segment_ids() {
    std::vector<uint32_t> ids;
    auto names = io_.list_dir(options_.dir);
    EXPECT_TRUE(names.ok());
    for (const auto& name : *names) {
      if (auto id = parse_segment_file_name(name)) ids.push_back(*id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::string segment_path(uint32_t id) { return options_.dir + "/" + segment_file_name(id); }
  std::string index_path(uint32_t id) { return options_.dir + "/" + index_file_name(id); }

  void mark(const std::string& id, uint32_t recipient) {
    std::optional<Result<void>> result;
    shard_->mark_done(id, recipient, [&](Result<void> r) { result = std::move(r); });
    EXPECT_FALSE(result.has_value()) << "callback ran inside mark_done()";
    settle(*shard_, io_);
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok()) << result->error().message;
  }

  volume::FakeFileIo io_;
  ShardOptions options_ = test_options();
  std::unique_ptr<SpoolShard> shard_;
  std::map<std::string, std::string> bodies_;
};

TEST_F(ShardSegments, RotationSealsAndIndexesAndRestartReadsIndexes) {
  fill(60);  // about 190 KB over 64 KB segments
  const auto ids = segment_ids();
  ASSERT_GE(ids.size(), 3u);
  for (size_t i = 0; i + 1 < ids.size(); i++) {
    EXPECT_TRUE(io_.exists(index_path(ids[i]))) << "sealed segment without index";
  }
  EXPECT_FALSE(io_.exists(index_path(ids.back())));

  RecoveryReport report = reopen(true);
  EXPECT_EQ(report.messages, 60u);
  EXPECT_EQ(report.indexed_segments, ids.size() - 1);
  EXPECT_EQ(report.scanned_segments, 1u);
  EXPECT_EQ(report.tail_bytes_dropped, 0u);
  EXPECT_TRUE(report.corruption.empty());
  expect_all_intact();

  // The segment that was active is sealed at start-up: next time everything is indexed.
  report = reopen(true);
  EXPECT_EQ(report.scanned_segments, 0u);
  EXPECT_EQ(report.indexed_segments, ids.size());
  expect_all_intact();
  fill(5);
  expect_all_intact();
}

TEST_F(ShardSegments, AfterACleanShutdownStartUpReadsOnlyIndexes) {
  fill(10);
  auto open = shard_->begin(make_envelope("late@example.org", {"r@example.net"}));
  ASSERT_TRUE(open.ok());
  shard_->seal_active();
  settle(*shard_, io_);
  EXPECT_FALSE(io_.exists(index_path(segment_ids().back()))) << "sealed with a message open";
  std::optional<Result<void>> result;
  shard_->append(*open, "late");
  shard_->commit(*open, [&](Result<void> r) { result = std::move(r); });
  settle(*shard_, io_);
  ASSERT_TRUE(result && result->ok());
  bodies_[format_queue_id(3, message_key(segment_ids().back(), 11))] = "late";
  EXPECT_TRUE(io_.exists(index_path(segment_ids().back())));
  RecoveryReport report = reopen(true);
  EXPECT_EQ(report.scanned_segments, 0u);
  expect_all_intact();
}

TEST_F(ShardSegments, MissingOrDamagedIndexMeansRescan) {
  fill(60);
  const auto ids = segment_ids();
  ASSERT_GE(ids.size(), 3u);
  io_.remove_file(index_path(ids[0]));
  io_.flip_bit(index_path(ids[1]), 100, 3);
  RecoveryReport report = reopen(true);
  EXPECT_EQ(report.scanned_segments, 3u);
  EXPECT_TRUE(report.corruption.empty()) << "an index is an accelerator, not data";
  expect_all_intact();
  settle(*shard_, io_);
  EXPECT_TRUE(io_.exists(index_path(ids[0]))) << "missing index is rebuilt";
  report = reopen(true);
  EXPECT_EQ(report.scanned_segments, 0u);
  expect_all_intact();
}

TEST_F(ShardSegments, LeftoverTemporaryIndexIsRemoved) {
  fill(3);
  io_.put_file(options_.dir + "/seg-00000001.idx.tmp", "half an index");
  reopen(true);
  EXPECT_FALSE(io_.exists(options_.dir + "/seg-00000001.idx.tmp"));
  expect_all_intact();
}

TEST_F(ShardSegments, TornTailIsDroppedQuietly) {
  fill(3);
  const auto ids = segment_ids();
  std::string bytes = io_.contents(segment_path(ids.back()));
  io_.put_file(segment_path(ids.back()), bytes + std::string(700, '\x5a'));
  RecoveryReport report = reopen(true);
  EXPECT_EQ(report.tail_bytes_dropped, 700u);
  EXPECT_TRUE(report.corruption.empty());
  expect_all_intact();
}

TEST_F(ShardSegments, MarkDoneAndReclaim) {
  fill(60);
  const auto ids = segment_ids();
  ASSERT_GE(ids.size(), 3u);
  const uint32_t first = ids[0];

  // Nothing is done yet: nothing to reclaim.
  auto reclaimed = shard_->reclaim();
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_EQ(*reclaimed, 0u);

  std::vector<std::string> in_first;
  shard_->for_each_message([&](const MessageInfo& m) {
    if (parse_queue_id(m.queue_id)->segment == first) in_first.push_back(m.queue_id);
  });
  ASSERT_FALSE(in_first.empty());
  for (const auto& id : in_first) {
    mark(id, 0);
    EXPECT_TRUE(shard_->find(id)->done.test(0));
    EXPECT_FALSE(shard_->find(id)->done.test(1));
  }
  EXPECT_EQ(*shard_->reclaim(), 0u) << "recipient b is not done yet";
  for (const auto& id : in_first) {
    mark(id, 1);
    EXPECT_FALSE(shard_->find(id).ok()) << "a fully done message is not live";
    bodies_.erase(id);
  }
  mark(in_first[0], 1);  // already done: succeeds, changes nothing
  reclaimed = shard_->reclaim();
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_EQ(*reclaimed, 1u);
  EXPECT_FALSE(io_.exists(segment_path(first)));
  EXPECT_FALSE(io_.exists(index_path(first)));
  expect_all_intact();

  RecoveryReport report = reopen(true);
  EXPECT_EQ(report.messages, bodies_.size());
  expect_all_intact();
  for (const auto& id : in_first) EXPECT_FALSE(shard_->find(id).ok());
}

TEST_F(ShardSegments, DoneMarksSurviveRestartAndBadMarksAreRefused) {
  fill(4);
  const std::string id = bodies_.begin()->first;
  mark(id, 1);
  reopen(true);
  auto info = shard_->find(id);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->done.test(0));
  EXPECT_TRUE(info->done.test(1));

  std::optional<Result<void>> out_of_range, unknown;
  shard_->mark_done(id, 2, [&](Result<void> r) { out_of_range = std::move(r); });
  shard_->mark_done("00030000FFFF00000001", 0, [&](Result<void> r) { unknown = std::move(r); });
  settle(*shard_, io_);
  ASSERT_TRUE(out_of_range && unknown);
  EXPECT_FALSE(out_of_range->ok());
  EXPECT_FALSE(unknown->ok());
}

TEST_F(ShardSegments, ReclaimCarriesForwardDoneRecordsOthersStillNeed) {
  fill(30);
  const auto ids = segment_ids();
  ASSERT_EQ(ids.size(), 2u);
  const uint32_t old_segment = ids[0];
  const uint32_t middle = ids[1];
  // Recipient a of the old messages is done: those DONE records land in `middle`.
  std::vector<std::string> old_ids;
  for (const auto& [id, body] : bodies_) {
    if (parse_queue_id(id)->segment == old_segment) old_ids.push_back(id);
  }
  for (const auto& id : old_ids) mark(id, 0);
  while (segment_ids().back() == middle) fill(1);
  // Every message of `middle` is finished; its DONE records for the old segment are not.
  std::vector<std::string> middle_ids;
  for (const auto& [id, body] : bodies_) {
    if (parse_queue_id(id)->segment == middle) middle_ids.push_back(id);
  }
  for (const auto& id : middle_ids) {
    mark(id, 0);
    mark(id, 1);
    bodies_.erase(id);
  }
  auto reclaimed = shard_->reclaim();
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_EQ(*reclaimed, 0u) << "DONE records must be copied forward first";
  EXPECT_TRUE(io_.exists(segment_path(middle)));
  settle(*shard_, io_);
  reclaimed = shard_->reclaim();
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_EQ(*reclaimed, 1u);
  EXPECT_FALSE(io_.exists(segment_path(middle)));
  EXPECT_TRUE(io_.exists(segment_path(old_segment)));

  RecoveryReport report = reopen(true);
  EXPECT_TRUE(report.corruption.empty());
  expect_all_intact();
  for (const auto& id : old_ids) {
    auto info = shard_->find(id);
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->done.test(0)) << id << " forgot a delivered recipient";
    EXPECT_FALSE(info->done.test(1)) << id;
  }
}

TEST_F(ShardSegments, CorruptionInASealedSegmentIsReportedAndNeverServed) {
  fill(60);
  const auto ids = segment_ids();
  ASSERT_GE(ids.size(), 3u);
  const uint32_t victim_segment = ids[1];
  std::string victim;
  for (const auto& [id, body] : bodies_) {
    if (parse_queue_id(id)->segment == victim_segment && victim.empty()) {
      victim = id;
    }
  }
  // Find a byte inside the victim's content in the file and flip it.
  const std::string file = io_.contents(segment_path(victim_segment));
  const size_t at = file.find(bodies_[victim].substr(1000, 64));
  ASSERT_NE(at, std::string::npos);
  io_.flip_bit(segment_path(victim_segment), at + 10, 4);

  // With a good index start-up does not read the segment; the read catches it.
  reopen(true);
  auto content = content_of(*shard_, victim);
  ASSERT_FALSE(content.ok());
  EXPECT_EQ(content.error().code, EBADMSG);
  for (const auto& [id, body] : bodies_) {
    if (id != victim) {
      EXPECT_EQ(*content_of(*shard_, id), body);
    }
  }

  // Without the index the scan finds it: reported with file and offset, not served.
  io_.remove_file(index_path(victim_segment));
  RecoveryReport report = reopen(true);
  ASSERT_GE(report.corruption.size(), 1u);
  EXPECT_EQ(report.corruption[0].file, segment_path(victim_segment));
  EXPECT_LE(report.corruption[0].offset, at + 10);
  EXPECT_GT(report.corruption[0].offset + report.corruption[0].length, at + 10);
  EXPECT_FALSE(shard_->find(victim).ok());
  EXPECT_EQ(report.damaged_messages, std::vector<std::string>{victim});
  bodies_.erase(victim);
  expect_all_intact();
}

TEST_F(ShardSegments, DamagedHeaderMidSegmentLosesOnlyItsMessage) {
  fill(20);
  const auto ids = segment_ids();
  const uint32_t segment = ids[0];
  std::vector<std::string> in_segment;
  for (const auto& [id, body] : bodies_) {
    if (parse_queue_id(id)->segment == segment) in_segment.push_back(id);
  }
  ASSERT_GE(in_segment.size(), 5u);
  const std::string victim = in_segment[2];
  // Flip a bit in the header of the victim's ENVELOPE record.
  const std::string file = io_.contents(segment_path(segment));
  const size_t body_at = file.find(bodies_[victim].substr(0, 64));
  ASSERT_NE(body_at, std::string::npos);
  // The ENVELOPE record precedes the CHUNK header; find its start by walking back to "PC".
  size_t envelope_at = file.rfind(std::string("\x02\x01\x43\x50", 4), body_at);
  ASSERT_NE(envelope_at, std::string::npos);
  io_.flip_bit(segment_path(segment), envelope_at + 9, 0);  // inside the key
  io_.remove_file(index_path(segment));
  RecoveryReport report = reopen(true);
  ASSERT_EQ(report.corruption.size(), 1u);
  EXPECT_EQ(report.corruption[0].offset, envelope_at);
  EXPECT_FALSE(shard_->find(victim).ok());
  bodies_.erase(victim);
  expect_all_intact();
}

TEST_F(ShardSegments, EmptyUnsyncedSegmentIsRemovedAtStartUp) {
  fill(2);
  const auto ids = segment_ids();
  auto h = shard_->begin(make_envelope("s@example.org", {"r@example.net"}));
  ASSERT_TRUE(h.ok());  // stays in the current segment
  shard_.reset();
  io_.put_file(options_.dir + "/" + segment_file_name(ids.back() + 1), "");
  shard_ = std::make_unique<SpoolShard>(io_, options_);
  ASSERT_TRUE(shard_->open().ok());
  EXPECT_FALSE(io_.exists(segment_path(ids.back() + 1)));
  expect_all_intact();
}

}  // namespace
}  // namespace postcore::spool
