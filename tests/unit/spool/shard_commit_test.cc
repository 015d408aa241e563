// Group commit, failure handling and streaming of SpoolShard, on the in-memory FileIo.
#include <gtest/gtest.h>

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
using Fault = volume::FakeFileIo::Fault;

std::unique_ptr<SpoolShard> open_shard(volume::FakeFileIo& io,
                                       ShardOptions options = test_options()) {
  auto shard = std::make_unique<SpoolShard>(io, std::move(options));
  auto report = shard->open();
  EXPECT_TRUE(report.ok()) << report.error().message;
  return shard;
}

TEST(ShardCommit, OneIterationSharesOneDatasyncAndCallbacksComeAfterIt) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  const uint64_t syncs_before = io.counters().datasyncs;
  constexpr int kMessages = 50;
  std::vector<std::optional<Result<void>>> results(kMessages);
  std::vector<uint64_t> syncs_seen(kMessages);
  std::vector<std::string> ids;
  for (int i = 0; i < kMessages; i++) {
    auto h = shard->begin(make_envelope("s@example.org", {"r@example.net"}));
    ASSERT_TRUE(h.ok());
    ids.push_back(shard->queue_id(*h));
    shard->append(*h, make_body(100 + i * 37, i));
    shard->commit(*h, [&, i](Result<void> r) {
      results[i] = std::move(r);
      syncs_seen[i] = io.counters().datasyncs;
    });
  }
  for (const auto& r : results) EXPECT_FALSE(r.has_value()) << "callback ran inside commit()";
  shard->flush();
  for (const auto& r : results) EXPECT_FALSE(r.has_value()) << "callback ran before datasync";
  io.run_pending();
  for (int i = 0; i < kMessages; i++) {
    ASSERT_TRUE(results[i].has_value()) << i;
    EXPECT_TRUE(results[i]->ok()) << i;
    EXPECT_EQ(syncs_seen[i], syncs_before + 1) << i;
  }
  EXPECT_EQ(io.counters().datasyncs, syncs_before + 1);
  EXPECT_EQ(shard->stats().groups, 1u);
  EXPECT_EQ(shard->live_messages(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; i++) {
    auto content = content_of(*shard, ids[i]);
    ASSERT_TRUE(content.ok()) << content.error().message;
    EXPECT_EQ(*content, make_body(100 + i * 37, i));
  }
}

TEST(ShardCommit, CommitsDuringAFlushWaitForTheNextOne) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  const auto envelope = make_envelope("s@example.org", {"r@example.net"});
  std::optional<Result<void>> first, second;
  store(*shard, envelope, "first", &first);
  shard->flush();
  store(*shard, envelope, "second", &second);
  shard->flush();  // one flush is in flight: nothing new starts
  io.run_pending();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->ok());
  EXPECT_FALSE(second.has_value());
  shard->flush();
  io.run_pending();
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->ok());
  EXPECT_EQ(shard->stats().groups, 2u);
}

TEST(ShardCommit, NoDatasyncWithoutCommits) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  auto h = shard->begin(make_envelope("s@example.org", {"r@example.net"}));
  ASSERT_TRUE(h.ok());
  shard->append(*h, make_body(100000, 1));  // streams whole buffers, unsynced
  settle(*shard, io);
  EXPECT_EQ(io.counters().datasyncs, 0u);
  EXPECT_GT(io.counters().writes, 0u);
  shard->abort(*h);
  settle(*shard, io);
  EXPECT_EQ(io.counters().datasyncs, 0u);
}

struct FailureCase {
  const char* name;
  Fault fault;
};

const std::vector<FailureCase> kFailureCases = {
    {"EIO on fdatasync", Fault::eio_on_datasync},
    {"short write", Fault::short_write},
    {"ENOSPC on write", Fault::enospc_on_write},
    {"EIO on write", Fault::eio_on_write},
};

TEST(ShardCommit, AFailedFlushFailsEveryCommitOfItsGroupAndLaterOnesStillWork) {
  for (const auto& c : kFailureCases) {
    SCOPED_TRACE(c.name);
    volume::FakeFileIo io;
    auto shard = open_shard(io);
    const auto envelope = make_envelope("s@example.org", {"r@example.net"});

    std::optional<Result<void>> before;
    const std::string before_id = store(*shard, envelope, "acknowledged before", &before);
    settle(*shard, io);
    ASSERT_TRUE(before.has_value() && before->ok());

    io.inject(c.fault);
    std::vector<std::optional<Result<void>>> failed(10);
    std::vector<std::string> failed_ids;
    for (auto& r : failed) failed_ids.push_back(store(*shard, envelope, make_body(300, 1), &r));
    settle(*shard, io);
    for (const auto& r : failed) {
      ASSERT_TRUE(r.has_value());
      EXPECT_FALSE(r->ok()) << "a failed flush acknowledged a message";
    }
    for (const auto& id : failed_ids) EXPECT_FALSE(shard->find(id).ok());

    std::vector<std::optional<Result<void>>> after(5);
    std::vector<std::string> after_ids;
    for (auto& r : after) after_ids.push_back(store(*shard, envelope, make_body(200, 2), &r));
    settle(*shard, io);
    for (const auto& r : after) {
      ASSERT_TRUE(r.has_value());
      EXPECT_TRUE(r->ok()) << r->error().message;
    }
    EXPECT_EQ(shard->live_messages(), 6u);

    // After a power cut exactly the acknowledged messages come back; and also after a
    // clean restart, since the failed file was cut back to its durable length.
    for (bool crash : {false, true}) {
      shard.reset();
      if (crash) io.crash();
      auto reopened = std::make_unique<SpoolShard>(io, test_options());
      auto report = reopened->open();
      ASSERT_TRUE(report.ok());
      EXPECT_TRUE(report->corruption.empty());
      EXPECT_EQ(reopened->live_messages(), 6u);
      EXPECT_EQ(*content_of(*reopened, before_id), "acknowledged before");
      for (const auto& id : failed_ids) EXPECT_FALSE(reopened->find(id).ok());
      for (const auto& id : after_ids) EXPECT_EQ(*content_of(*reopened, id), make_body(200, 2));
      settle(*reopened, io);
      shard = std::move(reopened);
    }
  }
}

TEST(ShardCommit, AFailedStreamingWriteFailsEveryMessageOpenInThatFile) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  const auto envelope = make_envelope("s@example.org", {"r@example.net"});
  auto big = shard->begin(envelope);
  auto small = shard->begin(envelope);
  ASSERT_TRUE(big.ok() && small.ok());
  shard->append(*small, "small");
  io.inject(Fault::eio_on_write);
  shard->append(*big, make_body(200000, 3));  // fills buffers, which are written at once
  settle(*shard, io);

  std::optional<Result<void>> big_result, small_result, later_result;
  shard->append(*big, "more");
  shard->commit(*big, [&](Result<void> r) { big_result = std::move(r); });
  shard->commit(*small, [&](Result<void> r) { small_result = std::move(r); });
  EXPECT_FALSE(big_result.has_value()) << "callback ran inside commit()";
  const std::string later = store(*shard, envelope, "later", &later_result);
  settle(*shard, io);
  ASSERT_TRUE(big_result && small_result && later_result);
  EXPECT_FALSE(big_result->ok());
  EXPECT_FALSE(small_result->ok());
  EXPECT_TRUE(later_result->ok());
  EXPECT_EQ(*content_of(*shard, later), "later");
}

TEST(ShardCommit, LargeMessageStreamsWithBoundedMemory) {
  volume::FakeFileIo io;
  ShardOptions options = test_options();
  options.chunk_bytes = 256 << 10;
  options.write_buffer_bytes = 1 << 20;
  options.segment_bytes = 64 << 20;
  auto shard = open_shard(io, options);
  const std::string body = make_body(50 << 20, 11);
  auto h = shard->begin(make_envelope("s@example.org", {"r@example.net"}));
  ASSERT_TRUE(h.ok());
  const std::string id = shard->queue_id(*h);
  uint64_t most_held = 0;
  for (size_t at = 0; at < body.size(); at += 65536) {
    shard->append(*h, std::string_view(body).substr(at, 65536));
    most_held = std::max(most_held, shard->held_bytes());
    io.run_pending();  // the reactor completes writes between reads from the socket
  }
  EXPECT_LT(most_held, options.write_buffer_bytes + 2 * options.chunk_bytes + (64 << 10));
  EXPECT_GE(io.counters().writes, 49u);
  EXPECT_EQ(io.counters().datasyncs, 0u);
  std::optional<Result<void>> result;
  shard->commit(*h, [&](Result<void> r) { result = std::move(r); });
  settle(*shard, io);
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ(io.counters().datasyncs, 1u);

  size_t pieces = 0;
  std::string back;
  ASSERT_TRUE(shard
                  ->read_content(id,
                                 [&](std::string_view piece) {
                                   pieces++;
                                   back.append(piece);
                                   return Result<void>();
                                 })
                  .ok());
  EXPECT_EQ(pieces, 200u);
  EXPECT_TRUE(back == body);
}

TEST(ShardCommit, InterleavedMessagesReadBackIntactBeforeAndAfterRestart) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  constexpr int kMessages = 4;
  std::vector<SpoolShard::Handle> handles;
  std::vector<std::string> ids, bodies;
  for (int i = 0; i < kMessages; i++) {
    auto h =
        shard->begin(make_envelope("s" + std::to_string(i) + "@example.org", {"r@example.net"}));
    ASSERT_TRUE(h.ok());
    handles.push_back(*h);
    ids.push_back(shard->queue_id(*h));
    bodies.push_back(make_body(30000 + 1000 * i, 20 + i));
  }
  // Round-robin pieces so that CHUNK records of different messages interleave.
  for (size_t at = 0; at < 34000; at += 1500) {
    for (int i = 0; i < kMessages; i++) {
      if (at < bodies[i].size()) {
        shard->append(handles[i], std::string_view(bodies[i]).substr(at, 1500));
      }
    }
  }
  std::vector<std::optional<Result<void>>> results(kMessages);
  for (int i = kMessages - 1; i >= 0; i--) {
    shard->commit(handles[i], [&results, i](Result<void> r) { results[i] = std::move(r); });
  }
  settle(*shard, io);
  for (int i = 0; i < kMessages; i++) {
    ASSERT_TRUE(results[i] && results[i]->ok());
    EXPECT_EQ(*content_of(*shard, ids[i]), bodies[i]);
    EXPECT_EQ(shard->read_envelope(ids[i])->mail_from, "s" + std::to_string(i) + "@example.org");
  }
  shard.reset();
  io.crash();
  shard = open_shard(io);
  for (int i = 0; i < kMessages; i++) EXPECT_EQ(*content_of(*shard, ids[i]), bodies[i]);
}

TEST(ShardCommit, AbortedMessagesNeverComeBack) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  const auto envelope = make_envelope("s@example.org", {"r@example.net"});
  auto streamed = shard->begin(envelope);
  auto small = shard->begin(envelope);
  ASSERT_TRUE(streamed.ok() && small.ok());
  const std::string streamed_id = shard->queue_id(*streamed);
  const std::string small_id = shard->queue_id(*small);
  shard->append(*streamed, make_body(100000, 5));
  shard->append(*small, "tiny");
  shard->abort(*streamed);
  shard->abort(*small);
  std::optional<Result<void>> kept;
  const std::string kept_id = store(*shard, envelope, "kept", &kept);
  settle(*shard, io);
  ASSERT_TRUE(kept && kept->ok());
  EXPECT_FALSE(shard->find(streamed_id).ok());
  shard.reset();
  io.crash();
  shard = open_shard(io);
  EXPECT_FALSE(shard->find(streamed_id).ok());
  EXPECT_FALSE(shard->find(small_id).ok());
  EXPECT_TRUE(shard->find(kept_id).ok());
  EXPECT_EQ(shard->live_messages(), 1u);
}

TEST(ShardCommit, AnEnvelopeTooLargeToStoreIsRefusedAtBegin) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  auto envelope = make_envelope("s@example.org", {"r@example.net"});
  envelope.mail_from.assign(100000, 'x');
  auto h = shard->begin(envelope);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, EMSGSIZE);
}

TEST(ShardCommit, QueueIdsTellShardAndSegment) {
  volume::FakeFileIo io;
  auto shard = open_shard(io);
  auto h = shard->begin(make_envelope("s@example.org", {"r@example.net"}));
  ASSERT_TRUE(h.ok());
  auto id = parse_queue_id(shard->queue_id(*h));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->shard, 3);
  EXPECT_TRUE(io.exists("/spool/" + segment_file_name(id->segment)));
  EXPECT_EQ(id->number, 1u);
}

}  // namespace
}  // namespace postcore::spool
