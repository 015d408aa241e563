// The directory snapshot's binary image: what the control plane writes and the dataplane
// reads. Versioned and strictly decoded, like every message between the two processes.
//
// Layout (integers little-endian):
//   offset  0  magic "PCDIRSNP"                      8 bytes
//   offset  8  format version (kSnapshotFormat)      u16
//   offset 10  flags, must be 0                      u16
//   offset 12  data version (DirectoryData.version)  u64
//   offset 20  total length of the image in bytes    u64
//   offset 28  sections, in this order, each a u8 tag then a u32 count then the items:
//              1 domains         name, u32 n + n aliases, catch_all
//              2 accounts        name, domain, real_name, password_hash, u8 services, u64 quota_kb,
//                                u32 n + n copies_to (format 2; format 1 has none)
//              3 account aliases name, domain, account
//              4 forwarders      name, domain, target
//              5 groups          name, domain, real_name, u32 n + n members
//              6 relay networks  cidr
//              7 service addresses  address, domain, u32 n + n services (format 3; absent
//                                in formats 1 and 2)
//   last 4     CRC32C of every byte before it        u32
// A string is a u32 length and that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "control/directory/model.h"

namespace postcore::directory {

inline constexpr std::string_view kSnapshotMagic = "PCDIRSNP";
inline constexpr uint16_t kSnapshotFormat = 3;  // formats 1 and 2 are still read
inline constexpr size_t kSnapshotHeaderSize = 28;
inline constexpr size_t kSnapshotTrailerSize = 4;
inline constexpr size_t kSnapshotVersionOffset = 12;
inline constexpr size_t kSnapshotLengthOffset = 20;

// Strings and lists are limited only by their u32 lengths; a DirectoryData beyond those
// (a 4 GiB password hash) cannot come out of the store.
std::string encode_snapshot(const DirectoryData& data);

// Rejects, with an Error (EBADMSG) naming the byte offset: a wrong magic, format or flags,
// a length in the header that differs from the input's (truncation, trailing bytes), a CRC
// mismatch, a length or count overrunning the data, an unknown section tag, service bits
// out of range, and bytes left between the last section and the CRC.
Result<DirectoryData> decode_snapshot(std::string_view image);

struct SnapshotHeader {
  uint16_t format = kSnapshotFormat;
  uint64_t data_version = 0;
  uint64_t total_length = 0;
};

// Checks magic, format and flags of the first kSnapshotHeaderSize bytes only, so that a
// poller can learn the version of a snapshot without reading it whole.
Result<SnapshotHeader> decode_snapshot_header(std::string_view header);

}  // namespace postcore::directory
