// The snapshot codec: round trips, and strictness against every kind of damage.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/crc32c.h"
#include "control/directory/snapshot_codec.h"
#include "tests/unit/directory/sample_directory.h"

namespace postcore::directory {
namespace {

using testing::same_data;
using testing::sample_directory;

// Makes a damaged image self-consistent again (length and CRC), so that the body parser,
// not the CRC, has to catch the damage.
std::string reseal(std::string image) {
  uint64_t total = image.size();
  std::memcpy(image.data() + kSnapshotLengthOffset, &total, sizeof(total));
  uint32_t crc = crc32c(std::string_view(image).substr(0, image.size() - kSnapshotTrailerSize));
  std::memcpy(image.data() + image.size() - kSnapshotTrailerSize, &crc, sizeof(crc));
  return image;
}

void put_u32(std::string& image, size_t at, uint32_t value) {
  std::memcpy(image.data() + at, &value, sizeof(value));
}

std::string error_of(std::string_view image) {
  Result<DirectoryData> decoded = decode_snapshot(image);
  return decoded.ok() ? "(accepted)" : decoded.error().message;
}

TEST(SnapshotCodec, RoundTripsTheSample) {
  DirectoryData data = sample_directory();
  std::string image = encode_snapshot(data);
  Result<DirectoryData> decoded = decode_snapshot(image);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(same_data(*decoded, data));
  EXPECT_EQ(encode_snapshot(*decoded), image);
}

TEST(SnapshotCodec, RoundTripsAnEmptyDirectory) {
  DirectoryData empty;
  Result<DirectoryData> decoded = decode_snapshot(encode_snapshot(empty));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(same_data(*decoded, empty));
}

TEST(SnapshotCodec, RoundTripsBinaryStringsAndExtremes) {
  DirectoryData data;
  data.version = UINT64_MAX;
  data.domains = {{std::string("nul\0inside", 10), {"", std::string(70000, 'x')}, ""}};
  data.accounts = {{"", "", "", std::string("\xff\x00\x80", 3), 0, UINT64_MAX}};
  data.groups = {{"g", "d", "", {}}};
  Result<DirectoryData> decoded = decode_snapshot(encode_snapshot(data));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(same_data(*decoded, data));
}

TEST(SnapshotCodec, HeaderCarriesTheVersionAndLength) {
  std::string image = encode_snapshot(sample_directory());
  Result<SnapshotHeader> header = decode_snapshot_header(image.substr(0, kSnapshotHeaderSize));
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(header->data_version, 42u);
  EXPECT_EQ(header->total_length, image.size());
  EXPECT_EQ(image.substr(0, 8), "PCDIRSNP");
}

TEST(SnapshotCodec, EveryTruncationIsRejected) {
  std::string image = encode_snapshot(sample_directory());
  for (size_t size = 0; size < image.size(); size++) {
    EXPECT_FALSE(decode_snapshot(std::string_view(image).substr(0, size)).ok()) << size;
  }
}

TEST(SnapshotCodec, EveryResealedTruncationIsRejectedByTheParser) {
  std::string image = encode_snapshot(sample_directory());
  size_t body_end = image.size() - kSnapshotTrailerSize;
  for (size_t cut = kSnapshotHeaderSize; cut < body_end; cut++) {
    std::string shorter = image.substr(0, cut) + image.substr(body_end);
    EXPECT_FALSE(decode_snapshot(reseal(shorter)).ok()) << cut;
  }
}

TEST(SnapshotCodec, EverySingleBitFlipIsRejected) {
  std::string image = encode_snapshot(sample_directory());
  for (size_t bit = 0; bit < image.size() * 8; bit++) {
    std::string flipped = image;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(decode_snapshot(flipped).ok()) << "bit " << bit;
  }
}

// With the CRC made to match, a flip may yield another valid snapshot; what matters is
// that the parser never reads out of bounds or crashes (run under ASan in CI).
TEST(SnapshotCodec, ResealedBitFlipsNeverCrash) {
  std::string image = encode_snapshot(sample_directory());
  size_t body_end = image.size() - kSnapshotTrailerSize;
  int rejected = 0;
  for (size_t bit = kSnapshotHeaderSize * 8; bit < body_end * 8; bit++) {
    std::string flipped = image;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    if (!decode_snapshot(reseal(flipped)).ok()) rejected++;
  }
  EXPECT_GT(rejected, 0);
}

TEST(SnapshotCodec, TrailingBytesAreRejected) {
  std::string image = encode_snapshot(sample_directory());
  EXPECT_NE(error_of(image + '\0').find("trailing bytes"), std::string::npos);
  EXPECT_NE(error_of(image + image).find("trailing bytes"), std::string::npos);
}

TEST(SnapshotCodec, BytesAfterTheLastSectionAreRejected) {
  std::string image = encode_snapshot(sample_directory());
  size_t body_end = image.size() - kSnapshotTrailerSize;
  std::string padded = image.substr(0, body_end) + "xy" + image.substr(body_end);
  EXPECT_EQ(
      error_of(reseal(padded)),
      "directory snapshot: 2 bytes after the last section at byte " + std::to_string(body_end));
}

// Format 2 (before service addresses) is still read: the same image without section 7.
TEST(SnapshotCodec, FormatTwoStillReads) {
  DirectoryData data = sample_directory();
  data.service_addresses.clear();
  std::string image = encode_snapshot(data);
  const size_t section_at = image.size() - kSnapshotTrailerSize - 5;
  ASSERT_EQ(image.substr(section_at, 5), std::string("\x07\0\0\0\0", 5));
  std::string v2 = image.erase(section_at, 5);
  v2[8] = 2;
  Result<DirectoryData> decoded = decode_snapshot(reseal(v2));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(same_data(*decoded, data));
}

// Format 1 (before accounts had copies) is still read: the same image without the copy
// count after each account (and without section 7).
TEST(SnapshotCodec, FormatOneStillReads) {
  DirectoryData data;
  data.version = 9;
  data.domains = {{"example.com", {}, ""}};
  data.accounts = {{"alice", "example.com", "Alice", "$6$s$h", kAllServices, 5, {}}};
  std::string image = encode_snapshot(data);
  // After the account come sections 3 to 7, empty (a tag and a zero count each), then the CRC.
  const size_t copy_count_at = image.size() - kSnapshotTrailerSize - 5 * 5 - 4;
  ASSERT_EQ(image.substr(copy_count_at, 5), std::string("\0\0\0\0\x03", 5));
  image.erase(image.size() - kSnapshotTrailerSize - 5, 5);
  std::string v1 = image.erase(copy_count_at, 4);
  v1[8] = 1;
  Result<DirectoryData> decoded = decode_snapshot(reseal(v1));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(same_data(*decoded, data));
}

TEST(SnapshotCodec, ErrorsNameTheOffset) {
  const std::string image = encode_snapshot(sample_directory());
  struct Damage {
    const char* what;
    std::string image;
    std::string expected;
  };
  auto patched = [&](size_t at, char byte) {
    std::string s = image;
    s[at] = byte;
    return s;
  };
  std::string huge_string = image;
  put_u32(huge_string, kSnapshotHeaderSize + 5, 0xfffffff0u);  // first domain's name
  std::string huge_count = image;
  put_u32(huge_count, kSnapshotHeaderSize + 1, 0x10000000u);  // number of domains
  std::string zero_length = image.substr(0, kSnapshotHeaderSize) + std::string(4, '\0');
  std::memset(zero_length.data() + kSnapshotLengthOffset, 0, sizeof(uint64_t));
  const Damage cases[] = {
      {"magic", patched(0, 'X'), "wrong magic at byte 0"},
      {"format", patched(8, 4), "unknown format version 4 at byte 8"},
      {"flags", patched(11, 1), "unknown flags 256 at byte 10"},
      {"crc", patched(image.size() - 1, static_cast<char>(image.back() ^ 1)),
       "CRC mismatch at byte " + std::to_string(image.size() - 4)},
      {"body byte under the crc", patched(40, static_cast<char>(image[40] ^ 0x10)),
       "CRC mismatch at byte " + std::to_string(image.size() - 4)},
      {"short header", image.substr(0, 10), "truncated header (10 of 28 bytes) at byte 10"},
      {"truncated", image.substr(0, image.size() - 1),
       "header says " + std::to_string(image.size()) + " bytes, have " +
           std::to_string(image.size() - 1) + " (truncated) at byte " +
           std::to_string(image.size() - 1)},
      {"length below the header", zero_length, "total length 0 shorter than the header at byte 20"},
      {"section tag", reseal(patched(kSnapshotHeaderSize, 9)),
       "section tag 9 where 1 belongs at byte 28"},
      {"string length", reseal(huge_string), "domain name length 4294967280 overruns the data"},
      {"string length offset", reseal(huge_string), "at byte 33"},
      {"count", reseal(huge_count), "section count 268435456 overruns the data"},
      {"count offset", reseal(huge_count), "at byte 29"},
  };
  for (const Damage& d : cases) {
    EXPECT_NE(error_of(d.image).find(d.expected), std::string::npos)
        << d.what << ": " << error_of(d.image);
  }
}

TEST(SnapshotCodec, HeaderLengthBelowMinimumIsRejected) {
  std::string header(kSnapshotHeaderSize, '\0');
  std::memcpy(header.data(), kSnapshotMagic.data(), kSnapshotMagic.size());
  header[8] = 1;
  EXPECT_FALSE(decode_snapshot_header(header).ok());
}

TEST(SnapshotCodec, ServiceBitsOutOfRangeAreRejected) {
  DirectoryData data = sample_directory();
  data.accounts[1].services = 0x08;
  std::string message = error_of(encode_snapshot(data));
  EXPECT_NE(message.find("account services 8 out of range"), std::string::npos) << message;
}

TEST(SnapshotCodec, DecodedErrorsAreBadMessage) {
  Result<DirectoryData> decoded = decode_snapshot("nonsense");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, EBADMSG);
}

}  // namespace
}  // namespace postcore::directory
