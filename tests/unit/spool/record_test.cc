#include "queue/spool/record.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/crc32c.h"
#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "spool_test_support.h"

namespace postcore::spool {
namespace {

constexpr uint64_t kNonce = 0x0123456789ABCDEFull;

struct RecordCase {
  const char* name;
  RecordType type;
  uint64_t key;
  std::string payload;
};

std::vector<RecordCase> record_cases() {
  return {
      {"segment", RecordType::segment, 7ull << 32, encode_segment_info({3, 7, kNonce})},
      {"envelope", RecordType::envelope, message_key(7, 1),
       *encode_envelope(testing::make_envelope("a@example.org", {"b@example.net"}))},
      {"empty chunk", RecordType::chunk, message_key(7, 1), ""},
      {"odd chunk", RecordType::chunk, message_key(7, 1), "Subject: x\r\n\r\nhello\r\n"},
      {"aligned chunk", RecordType::chunk, message_key(7, 2), std::string(64, 'z')},
      {"end", RecordType::end, message_key(7, 1), encode_end({23, 0xDEADBEEF, 1})},
      {"abort", RecordType::abort, message_key(7, 3), ""},
      {"done", RecordType::done, message_key(7, 1), encode_done(5)},
      {"mark", RecordType::mark, 0, encode_u64(4096)},
      {"seal", RecordType::seal, 0, encode_u64(12)},
  };
}

TEST(Record, RoundTripEveryType) {
  for (const auto& c : record_cases()) {
    std::string bytes;
    const uint32_t seed = header_seed(kNonce);
    const uint32_t crc = append_record(bytes, seed, c.type, c.key, c.payload);
    EXPECT_EQ(bytes.size(), record_size(c.payload.size())) << c.name;
    EXPECT_EQ(bytes.size() % kRecordAlignment, 0u) << c.name;
    auto view = decode_record(bytes, seed);
    ASSERT_TRUE(view.ok()) << c.name << ": " << view.error().message;
    EXPECT_EQ(view->header.type, c.type) << c.name;
    EXPECT_EQ(view->header.key, c.key) << c.name;
    EXPECT_EQ(view->header.payload_crc, crc) << c.name;
    EXPECT_EQ(view->payload, c.payload) << c.name;
    EXPECT_EQ(view->size, bytes.size()) << c.name;
  }
}

TEST(Record, EveryBitFlipIsDetected) {
  for (const auto& c : record_cases()) {
    std::string bytes;
    const uint32_t seed = header_seed(kNonce);
    append_record(bytes, seed, c.type, c.key, c.payload);
    for (size_t byte = 0; byte < bytes.size(); byte++) {
      for (int bit = 0; bit < 8; bit++) {
        std::string damaged = bytes;
        damaged[byte] ^= static_cast<char>(1 << bit);
        EXPECT_FALSE(decode_record(damaged, seed).ok())
            << c.name << ": flip of bit " << bit << " of byte " << byte << " not detected";
      }
    }
  }
}

TEST(Record, WrongNonceIsRejected) {
  std::string bytes;
  append_record(bytes, header_seed(kNonce), RecordType::chunk, 1, "data");
  EXPECT_FALSE(decode_record(bytes, header_seed(kNonce + 1)).ok());
}

TEST(Record, TruncationIsDetected) {
  std::string bytes;
  append_record(bytes, header_seed(kNonce), RecordType::chunk, 1, "some content here");
  for (size_t len = 0; len < bytes.size(); len++) {
    EXPECT_FALSE(decode_record(std::string_view(bytes).substr(0, len), header_seed(kNonce)).ok())
        << len;
  }
}

TEST(Record, OversizedLengthIsRejectedBeforeReadingPayload) {
  std::string bytes;
  append_record(bytes, header_seed(0), RecordType::chunk, 1, "x");
  // Rewrite the length and fix up the header CRC, as a writer with a bug would.
  uint32_t huge = kMaxRecordPayload + 1;
  std::memcpy(bytes.data() + 4, &huge, 4);
  uint32_t crc = crc32c_extend(header_seed(0), bytes.data(), 20);
  std::memcpy(bytes.data() + 20, &crc, 4);
  EXPECT_FALSE(decode_header(bytes.data(), header_seed(0)).ok());
}

TEST(EnvelopeCodec, RoundTrip) {
  Envelope e = testing::make_envelope("sender@example.org", {"a@example.net", "b@example.net"});
  e.declared_size = 123456;
  e.smtputf8 = true;
  e.ret = DsnRet::hdrs;
  e.envid = "QQ314159";
  e.recipients[1].notify = notify_success | notify_failure;
  e.recipients[1].orcpt = "rfc822;b@example.net";
  e.received_at = -5;
  e.auth_user = "alice@example.org";
  auto decoded = decode_envelope(*encode_envelope(e));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->client_address, e.client_address);
  EXPECT_EQ(decoded->helo, e.helo);
  EXPECT_EQ(decoded->esmtp, e.esmtp);
  EXPECT_EQ(decoded->mail_from, e.mail_from);
  EXPECT_EQ(decoded->declared_size, e.declared_size);
  EXPECT_EQ(decoded->body, e.body);
  EXPECT_EQ(decoded->smtputf8, e.smtputf8);
  EXPECT_EQ(decoded->ret, e.ret);
  EXPECT_EQ(decoded->envid, e.envid);
  EXPECT_EQ(decoded->received_at, e.received_at);
  EXPECT_EQ(decoded->auth_user, e.auth_user);
  ASSERT_EQ(decoded->recipients.size(), 2u);
  EXPECT_EQ(decoded->recipients[1].address, "b@example.net");
  EXPECT_EQ(decoded->recipients[1].notify, notify_success | notify_failure);
  EXPECT_EQ(decoded->recipients[1].orcpt, "rfc822;b@example.net");
}

TEST(EnvelopeCodec, DeliveryTargetsRoundTrip) {
  Envelope e = testing::make_envelope("s@example.org", {"team@example.com", "x@example.com"});
  e.recipients[0].targets = {{DeliveryTarget::local, "alice@example.com", false},
                             {DeliveryTarget::remote, "Bob@Elsewhere.example", false},
                             {DeliveryTarget::local, "postmaster@example.com", true}};
  auto decoded = decode_envelope(*encode_envelope(e));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->recipients.size(), 2u);
  EXPECT_EQ(decoded->recipients[0].targets, e.recipients[0].targets);
  EXPECT_TRUE(decoded->recipients[1].targets.empty());
}

// A version 1 envelope, as spools written before delivery targets hold it, written out
// byte by byte: it still reads, with an empty expansion.
TEST(EnvelopeCodec, VersionOneStillReads) {
  std::string v1;
  v1 += std::string("\x01\x01\x00\x00\x00", 5);              // version, esmtp, body, utf8, ret
  v1 += std::string("\x10\x00\x00\x00\x00\x00\x00\x00", 8);  // declared size 16
  v1 += std::string("\x2a\x00\x00\x00\x00\x00\x00\x00", 8);  // received at 42
  auto str = [&](std::string_view text) {
    v1 += static_cast<char>(text.size());
    v1 += std::string(3, '\0');
    v1 += text;
  };
  str("192.0.2.1");
  str("client.example");
  str("a@example.org");
  str("");
  v1 += std::string("\x01\x00\x00\x00", 4);  // one recipient
  v1 += '\x02';                              // NOTIFY=SUCCESS
  str("b@example.com");
  str("");
  auto decoded = decode_envelope(v1);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->declared_size, 16u);
  EXPECT_EQ(decoded->received_at, 42);
  EXPECT_EQ(decoded->mail_from, "a@example.org");
  ASSERT_EQ(decoded->recipients.size(), 1u);
  EXPECT_EQ(decoded->recipients[0].address, "b@example.com");
  EXPECT_EQ(decoded->recipients[0].notify, notify_success);
  EXPECT_TRUE(decoded->recipients[0].targets.empty());
  EXPECT_TRUE(decoded->auth_user.empty());
  EXPECT_FALSE(decode_envelope(v1 + '\0').ok());
}

TEST(EnvelopeCodec, BadTargetFlagsAreRejected) {
  Envelope e = testing::make_envelope("a@b", {"c@d"});
  e.recipients[0].targets = {{DeliveryTarget::local, "t@d", false}};
  const std::string bytes = *encode_envelope(e);
  // The target's flags byte comes just before its address: u32 length 3, then "t@d".
  const size_t flags_at = bytes.size() - 3 - 4 - 1;
  ASSERT_EQ(bytes[flags_at], 0);
  for (char flags : {'\x04', '\x80', '\x03'}) {  // unknown bits; remote and implicit
    std::string bad = bytes;
    bad[flags_at] = flags;
    EXPECT_FALSE(decode_envelope(bad).ok()) << int(flags);
  }
  std::string remote = bytes;
  remote[flags_at] = 1;
  EXPECT_TRUE(decode_envelope(remote).ok());
}

TEST(EnvelopeCodec, ShortOrPaddedInputIsRejected) {
  Envelope e = testing::make_envelope("a@b", {"c@d", "e@f"});
  e.recipients[0].targets = {{DeliveryTarget::local, "x@d", false},
                             {DeliveryTarget::remote, "y@z", false}};
  const std::string bytes = *encode_envelope(e);
  for (size_t len = 0; len < bytes.size(); len++) {
    EXPECT_FALSE(decode_envelope(std::string_view(bytes).substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(decode_envelope(bytes + '\0').ok());
  std::string bad_version = bytes;
  bad_version[0] = 9;
  EXPECT_FALSE(decode_envelope(bad_version).ok());
}

TEST(EnvelopeCodec, WhatCouldNotBeReadBackIsNotWritten) {
  Envelope e = testing::make_envelope("a@b", {"c@d"});
  e.recipients[0].address.assign(64 * 1024, 'x');
  EXPECT_TRUE(decode_envelope(*encode_envelope(e)).ok());
  e.recipients[0].address.push_back('x');
  auto encoded = encode_envelope(e);
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error().code, EMSGSIZE);
  e.recipients[0].address = "c@d";
  e.recipients[0].targets = {{DeliveryTarget::remote, std::string(64 * 1024 + 1, 'y'), false}};
  encoded = encode_envelope(e);
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error().code, EMSGSIZE);
}

TEST(QueueId, FormatAndParse) {
  struct Case {
    QueueId id;
    const char* text;
  };
  const std::vector<Case> cases = {
      {{0, 1, 1}, "00000000000100000001"},
      {{3, 0x1F, 0xA41}, "00030000001F00000A41"},
      {{0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, "FFFFFFFFFFFFFFFFFFFF"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_queue_id(c.id), c.text);
    auto parsed = parse_queue_id(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(*parsed, c.id);
  }
  EXPECT_EQ(parse_queue_id("00030000001f00000a41"), (QueueId{3, 0x1F, 0xA41}));
  for (const char* bad : {"", "0003", "00030000001F00000A4", "00030000001F00000A411",
                          "0003000000 F00000A41", "+0030000001F00000A41", "0x030000001F00000A41"}) {
    EXPECT_FALSE(parse_queue_id(bad).has_value()) << bad;
  }
}

TEST(QueueId, FileNames) {
  EXPECT_EQ(segment_file_name(0x1F), "seg-0000001F.log");
  EXPECT_EQ(index_file_name(0x1F), "seg-0000001F.idx");
  EXPECT_EQ(parse_segment_file_name("seg-0000001F.log"), 0x1Fu);
  EXPECT_EQ(parse_index_file_name("seg-0000001F.idx"), 0x1Fu);
  EXPECT_FALSE(parse_segment_file_name("seg-0000001F.idx").has_value());
  EXPECT_FALSE(parse_segment_file_name("seg-0000001F.log.tmp").has_value());
  EXPECT_FALSE(parse_segment_file_name("seg-000001F.log").has_value());
  EXPECT_EQ(shard_dir("/data", 7), "/data/spool/shard-007");
  EXPECT_EQ(parse_shard_dir_name("shard-007"), 7);
  EXPECT_EQ(parse_shard_dir_name("shard-1234"), 1234);
  EXPECT_FALSE(parse_shard_dir_name("shard-07").has_value());
  EXPECT_FALSE(parse_shard_dir_name("shard-70000").has_value());
}

SegmentIndex sample_index() {
  SegmentIndex index;
  index.shard = 3;
  index.segment = 9;
  index.nonce = kNonce;
  index.data_end = 123456;
  for (uint32_t i = 1; i <= 3; i++) {
    StoredMessage m;
    m.key = message_key(9, i);
    m.first_offset = i * 1000;
    m.end_offset = i * 1000 + 500;
    m.content_length = i * 77;
    m.content_crc = 0xA0A0A0A0 + i;
    m.done = DoneBits(i == 3 ? 130 : i);
    m.done.set(0);
    if (i == 3) m.done.set(129);
    index.messages.push_back(std::move(m));
  }
  index.done_entries = {{message_key(4, 2), 1}, {message_key(9, 1), 0}};
  return index;
}

TEST(SegmentIndex, RoundTrip) {
  const SegmentIndex index = sample_index();
  auto decoded = decode_index(encode_index(index));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->shard, 3);
  EXPECT_EQ(decoded->segment, 9u);
  EXPECT_EQ(decoded->nonce, kNonce);
  EXPECT_EQ(decoded->data_end, 123456u);
  ASSERT_EQ(decoded->messages.size(), 3u);
  for (size_t i = 0; i < 3; i++) {
    const auto& a = index.messages[i];
    const auto& b = decoded->messages[i];
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.first_offset, b.first_offset);
    EXPECT_EQ(a.end_offset, b.end_offset);
    EXPECT_EQ(a.content_length, b.content_length);
    EXPECT_EQ(a.content_crc, b.content_crc);
    EXPECT_EQ(a.done.size(), b.done.size());
    EXPECT_EQ(a.done.count(), b.done.count());
  }
  EXPECT_TRUE(decoded->messages[2].done.test(129));
  ASSERT_EQ(decoded->done_entries.size(), 2u);
  EXPECT_EQ(decoded->done_entries[0].key, message_key(4, 2));
  EXPECT_EQ(decoded->done_entries[0].recipient, 1u);
}

TEST(SegmentIndex, EveryBitFlipAndTruncationIsDetected) {
  const std::string bytes = encode_index(sample_index());
  for (size_t byte = 0; byte < bytes.size(); byte++) {
    for (int bit = 0; bit < 8; bit++) {
      std::string damaged = bytes;
      damaged[byte] ^= static_cast<char>(1 << bit);
      EXPECT_FALSE(decode_index(damaged).ok()) << byte << ":" << bit;
    }
  }
  for (size_t len = 0; len < bytes.size(); len++) {
    EXPECT_FALSE(decode_index(std::string_view(bytes).substr(0, len)).ok()) << len;
  }
}

TEST(DoneBits, SmallAndLarge) {
  for (uint32_t size : {0u, 1u, 63u, 64u, 65u, 200u}) {
    DoneBits bits(size);
    EXPECT_EQ(bits.all(), size == 0);
    for (uint32_t i = 0; i < size; i++) {
      EXPECT_FALSE(bits.test(i));
      bits.set(i);
      EXPECT_TRUE(bits.test(i));
      EXPECT_EQ(bits.all(), i + 1 == size) << size << " " << i;
    }
    DoneBits copy = bits;
    EXPECT_EQ(copy.count(), size);
    bits.set(size + 5);  // out of range: ignored
    EXPECT_FALSE(bits.test(size + 5));
  }
}

}  // namespace
}  // namespace postcore::spool
