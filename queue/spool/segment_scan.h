// Reading a whole segment file record by record, verifying every CRC, and deciding
// which damage is a torn tail and which is corruption.
//
// Only bytes after the last completed datasync can be torn by a crash; everything
// before it was acknowledged and must be intact. The writer leaves evidence of how far
// that was: each MARK record says "bytes before N were durable when I was written", and
// a SEAL record says the whole file was. So a damaged region that starts at or after
// the largest such claim is the torn tail (dropped, it was never acknowledged), and one
// that starts before it is corruption: reported, and the records on either side of it
// are still used. After damage the scan resynchronises on the next 8-byte boundary at
// which a whole record verifies; the nonce-seeded header CRC keeps it from locking onto
// record images inside message content.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "queue/spool/record.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

struct ScanProblem {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string what;
};

struct ScanResult {
  std::optional<SegmentInfo> info;  // from the SEGMENT record, if it verified
  uint64_t nonce = 0;               // the nonce records were checked against
  uint64_t file_size = 0;
  uint64_t valid_end = 0;  // records before this offset were kept; a torn tail starts here
  // How far the file was durable by its own MARK/SEAL records: damage before this is
  // corruption, after it a torn tail.
  uint64_t durable_claim = 0;
  uint64_t tail_bytes = 0;  // file_size - valid_end
  bool sealed = false;
  uint64_t records = 0;  // records kept, SEGMENT included
  std::vector<ScanProblem> corruption;
};

// Called for every kept record in file order. `payload` is empty for CHUNK records:
// their CRC has been verified and header.payload_crc is what callers combine.
using RecordVisitor =
    std::function<void(const RecordHeader& header, uint64_t offset, std::string_view payload)>;

// `fallback_nonce` (from the segment's index) is used when the SEGMENT record itself is
// damaged. Returns an error only when the file cannot be read.
Result<ScanResult> scan_segment(volume::FileIo& io, int fd, const RecordVisitor& visit,
                                std::optional<uint64_t> fallback_nonce = std::nullopt);

// Where the run of whole, verifying records that starts at `offset` ends (`offset` itself
// when no record verifies there). For mending one mirrored copy from another: bytes of
// such a run are what the writer wrote there, whichever copy they are read from.
Result<uint64_t> verified_run(volume::FileIo& io, int fd, uint64_t offset, uint64_t nonce);

}  // namespace postcore::spool
