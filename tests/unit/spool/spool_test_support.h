// Helpers shared by the spool tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "queue/envelope.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/fake_file_io.h"

namespace postcore::spool::testing {

inline Envelope make_envelope(std::string from, std::vector<std::string> recipients,
                              int64_t received_at = 1700000000) {
  Envelope e;
  e.client_address = "192.0.2.7";
  e.helo = "client.example";
  e.esmtp = true;
  e.mail_from = std::move(from);
  e.body = BodyType::eight_bit_mime;
  e.received_at = received_at;
  for (auto& r : recipients) e.recipients.push_back(Recipient{std::move(r), 0, ""});
  return e;
}

// Deterministic content of any size.
inline std::string make_body(size_t size, uint32_t seed) {
  std::string body(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    body[i] = static_cast<char>(x);
  }
  return body;
}

inline ShardOptions test_options(std::string dir = "/spool") {
  ShardOptions o;
  o.dir = std::move(dir);
  o.shard = 3;
  o.segment_bytes = 64 << 10;
  o.write_buffer_bytes = 16 << 10;
  o.chunk_bytes = 4 << 10;
  return o;
}

// Runs flush() and every completion until the shard has nothing left to do.
inline void settle(SpoolShard& shard, volume::FakeFileIo& io) {
  for (int i = 0; i < 10000; i++) {
    shard.flush();
    if (io.pending() == 0 && shard.idle()) return;
    io.run_pending();
  }
  ADD_FAILURE() << "spool shard never became idle";
}

inline Result<std::string> content_of(const SpoolShard& shard, const std::string& queue_id) {
  std::string out;
  auto ok = shard.read_content(queue_id, [&](std::string_view piece) {
    out.append(piece);
    return Result<void>();
  });
  if (!ok) return ok.error();
  return out;
}

// Stores one message and returns its queue id; the commit result lands in *result.
inline std::string store(SpoolShard& shard, const Envelope& envelope, std::string_view body,
                         std::optional<Result<void>>* result, size_t piece = 1000) {
  auto handle = shard.begin(envelope);
  EXPECT_TRUE(handle.ok());
  if (!handle) return {};
  std::string id = shard.queue_id(*handle);
  for (size_t at = 0; at < body.size(); at += piece) shard.append(*handle, body.substr(at, piece));
  shard.commit(*handle, [result](Result<void> r) { *result = std::move(r); });
  return id;
}

}  // namespace postcore::spool::testing
