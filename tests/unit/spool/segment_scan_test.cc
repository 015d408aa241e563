#include "queue/spool/segment_scan.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "queue/spool/envelope_codec.h"
#include "queue/spool/queue_id.h"
#include "queue/volume/fake_file_io.h"
#include "spool_test_support.h"

namespace postcore::spool {
namespace {

constexpr uint64_t kNonce = 0x5151515151515151ull;
constexpr uint32_t kSegment = 4;

// Builds segment images record by record, the way SegmentWriter lays them out.
class SegmentImage {
 public:
  explicit SegmentImage(uint64_t nonce = kNonce) : seed_(header_seed(nonce)) {
    append_record(bytes_, header_seed(0), RecordType::segment, uint64_t{kSegment} << 32,
                  encode_segment_info({3, kSegment, nonce}));
  }
  SegmentImage& message(uint32_t number, std::string_view content) {
    const uint64_t key = message_key(kSegment, number);
    add(RecordType::envelope, key,
        *encode_envelope(testing::make_envelope("a@example.org", {"b@example.net"})));
    const uint32_t crc = add(RecordType::chunk, key, content);
    add(RecordType::end, key, encode_end({content.size(), crc, 1}));
    return *this;
  }
  SegmentImage& mark(uint64_t durable) {
    add(RecordType::mark, 0, encode_u64(durable));
    return *this;
  }
  SegmentImage& seal() {
    add(RecordType::seal, 0, encode_u64(0));
    return *this;
  }
  SegmentImage& raw(std::string_view bytes) {
    bytes_.append(bytes);
    return *this;
  }
  uint32_t add(RecordType type, uint64_t key, std::string_view payload) {
    return append_record(bytes_, seed_, type, key, payload);
  }
  size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }

 private:
  uint32_t seed_;
  std::string bytes_;
};

struct ScanOutcome {
  ScanResult result;
  std::vector<std::pair<RecordType, uint64_t>> visited;  // type, offset
};

ScanOutcome scan(const std::string& bytes) {
  volume::FakeFileIo io;
  io.put_file("/seg", bytes);
  auto fd = io.open("/seg", O_RDONLY, 0);
  EXPECT_TRUE(fd.ok());
  ScanOutcome out;
  auto result =
      scan_segment(io, *fd, [&](const RecordHeader& h, uint64_t offset, std::string_view) {
        out.visited.emplace_back(h.type, offset);
      });
  EXPECT_TRUE(result.ok());
  if (result) out.result = *result;
  return out;
}

size_t count(const ScanOutcome& o, RecordType type) {
  size_t n = 0;
  for (const auto& [t, offset] : o.visited) n += t == type;
  return n;
}

TEST(SegmentScan, CleanFile) {
  SegmentImage image;
  image.message(1, "hello").message(2, std::string(5000, 'x'));
  ScanOutcome o = scan(image.bytes());
  ASSERT_TRUE(o.result.info.has_value());
  EXPECT_EQ(o.result.info->segment, kSegment);
  EXPECT_EQ(o.result.nonce, kNonce);
  EXPECT_EQ(o.result.records, 7u);
  EXPECT_EQ(o.result.tail_bytes, 0u);
  EXPECT_EQ(o.result.valid_end, image.size());
  EXPECT_TRUE(o.result.corruption.empty());
  EXPECT_FALSE(o.result.sealed);
}

TEST(SegmentScan, EmptyFile) {
  ScanOutcome o = scan("");
  EXPECT_EQ(o.result.records, 0u);
  EXPECT_EQ(o.result.tail_bytes, 0u);
  EXPECT_TRUE(o.result.corruption.empty());
}

TEST(SegmentScan, TornTailsAreDroppedNotReported) {
  SegmentImage durable;
  durable.message(1, "acknowledged");
  struct Case {
    const char* name;
    std::string tail;
  };
  SegmentImage whole = durable;
  whole.message(2, "in flight when the power went");
  const std::string unsynced = whole.bytes().substr(durable.size());
  const std::vector<Case> cases = {
      {"zeros", std::string(4096, '\0')},
      {"garbage", testing::make_body(1000, 9)},
      {"half a record", unsynced.substr(0, 30)},
      {"all but one byte", unsynced.substr(0, unsynced.size() - 1)},
      {"a hole, then records that did land", std::string(512, '\0') + unsynced},
  };
  for (const auto& c : cases) {
    ScanOutcome o = scan(durable.bytes() + c.tail);
    // Whole records of the unfinished message may be kept; its END never is.
    EXPECT_TRUE(o.result.corruption.empty()) << c.name;
    EXPECT_GE(o.result.valid_end, durable.size()) << c.name;
    EXPECT_EQ(o.result.valid_end + o.result.tail_bytes, durable.size() + c.tail.size()) << c.name;
    EXPECT_GT(o.result.tail_bytes, 0u) << c.name;
    EXPECT_EQ(count(o, RecordType::end), 1u) << c.name;
  }
}

TEST(SegmentScan, DamageBeforeAClaimedDurableOffsetIsCorruption) {
  SegmentImage image;
  image.message(1, "first");
  const uint64_t damage_at = image.size();
  image.message(2, "second");
  const uint64_t damage_end = image.size();
  image.mark(damage_end).message(3, "third");
  std::string bytes = image.bytes();
  bytes[damage_at + 2] ^= 0x10;  // the magic of message 2's ENVELOPE

  ScanOutcome o = scan(bytes);
  ASSERT_EQ(o.result.corruption.size(), 1u);
  EXPECT_EQ(o.result.corruption[0].offset, damage_at);
  EXPECT_EQ(o.result.tail_bytes, 0u);
  // Resynchronised: message 2's CHUNK and END are still visited, message 3 is whole.
  EXPECT_EQ(count(o, RecordType::envelope), 2u);
  EXPECT_EQ(count(o, RecordType::end), 3u);
}

TEST(SegmentScan, DamageInASealedFileIsCorruption) {
  SegmentImage image;
  image.message(1, "first");
  const uint64_t damage_at = image.size() + kRecordHeaderSize;  // inside message 2's envelope
  image.message(2, "second").seal();
  std::string bytes = image.bytes();
  bytes[damage_at] ^= 1;
  ScanOutcome o = scan(bytes);
  EXPECT_TRUE(o.result.sealed);
  ASSERT_EQ(o.result.corruption.size(), 1u);
  EXPECT_EQ(o.result.corruption[0].offset, damage_at - kRecordHeaderSize);
  EXPECT_EQ(o.result.tail_bytes, 0u);
}

TEST(SegmentScan, DataAfterSealIsCorruption) {
  SegmentImage image;
  image.message(1, "first").seal();
  ScanOutcome o = scan(image.bytes() + std::string(16, 'x'));
  EXPECT_TRUE(o.result.sealed);
  ASSERT_EQ(o.result.corruption.size(), 1u);
  EXPECT_EQ(o.result.corruption[0].offset, image.size());
}

TEST(SegmentScan, RecordImagesFromAnotherNonceAreNeverTrusted) {
  // A message body crafted to contain records (a MARK claiming everything is durable,
  // then a whole fake message) - what a resync after a torn write would run into.
  SegmentImage durable;
  durable.message(1, "real");
  SegmentImage forged(kNonce ^ 1);
  forged.mark(1 << 20).message(9, "forged");
  ScanOutcome o = scan(durable.bytes() + std::string(64, '\0') + forged.bytes());
  EXPECT_TRUE(o.result.corruption.empty());
  EXPECT_EQ(o.result.valid_end, durable.size());
  EXPECT_EQ(count(o, RecordType::end), 1u);
}

TEST(SegmentScan, DamagedSegmentHeaderKeepsTheRest) {
  SegmentImage image;
  image.message(1, "first");
  image.mark(image.size()).message(2, "second");
  std::string bytes = image.bytes();
  bytes[20] ^= 1;  // the SEGMENT record's header CRC
  ScanOutcome o = scan(bytes);
  EXPECT_FALSE(o.result.info.has_value());
  EXPECT_EQ(o.result.nonce, kNonce);  // recovered from the SEGMENT payload
  ASSERT_EQ(o.result.corruption.size(), 1u);
  EXPECT_EQ(o.result.corruption[0].offset, 0u);
  EXPECT_EQ(count(o, RecordType::end), 2u);
}

}  // namespace
}  // namespace postcore::spool
