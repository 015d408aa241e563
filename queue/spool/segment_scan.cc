#include "queue/spool/segment_scan.h"

#include <algorithm>

#include "queue/spool/block_reader.h"
#include "queue/spool/wire.h"

namespace postcore::spool {
namespace {

struct Candidate {
  RecordHeader header;
  uint64_t size = 0;
  std::string_view payload;  // valid until the reader's next view
};

struct Attempt {
  std::optional<Candidate> record;
  std::string reason;  // why there is no record here
};

// The record at `offset` if its header and payload both verify.
Result<Attempt> try_record(BlockReader& reader, uint64_t offset, uint32_t seed) {
  auto head = reader.view(offset, kRecordHeaderSize);
  if (!head) return head.error();
  if (head->size() < kRecordHeaderSize) return Attempt{std::nullopt, "record header truncated"};
  auto header = decode_header(head->data(), seed);
  if (!header) return Attempt{std::nullopt, header.error().message};
  const uint64_t size = record_size(header->payload_length);
  if (offset + size > reader.file_size()) return Attempt{std::nullopt, "record payload truncated"};
  auto whole = reader.view(offset, size);
  if (!whole) return whole.error();
  if (whole->size() < size) return Attempt{std::nullopt, "record payload truncated"};
  std::string_view padded = whole->substr(kRecordHeaderSize);
  if (auto ok = check_payload(*header, padded); !ok)
    return Attempt{std::nullopt, ok.error().message};
  return Attempt{Candidate{*header, size, padded.substr(0, header->payload_length)}, {}};
}

struct Gap {
  uint64_t start;
  uint64_t end;
  std::string what;
};

struct Deferred {
  RecordHeader header;
  uint64_t offset;
  std::string payload;
};

}  // namespace

Result<ScanResult> scan_segment(volume::FileIo& io, int fd, const RecordVisitor& visit,
                                std::optional<uint64_t> fallback_nonce) {
  auto size = io.size(fd);
  if (!size) return size.error();
  ScanResult result;
  result.file_size = *size;
  BlockReader reader(io, fd, *size);

  // Records after the first damage are held back: whether they are kept depends on
  // claims that may appear further on.
  std::vector<Gap> gaps;
  std::vector<Deferred> deferred;
  uint64_t claimed_durable = 0;
  uint64_t seal_end = 0;
  uint32_t seed = header_seed(0);

  uint64_t pos = 0;
  while (pos < *size) {
    auto attempt = try_record(reader, pos, pos == 0 ? header_seed(0) : seed);
    if (!attempt) return attempt.error();
    std::optional<Candidate>& record = attempt->record;
    if (record && pos == 0) {
      auto info =
          record->header.type == RecordType::segment
              ? decode_segment_info(record->payload)
              : Result<SegmentInfo>(make_error(EBADMSG, "file does not start with SEGMENT"));
      if (info) {
        result.info = *info;
        result.nonce = info->nonce;
        seed = header_seed(info->nonce);
      } else {
        attempt->reason = info.error().message;
        record.reset();
      }
    } else if (record && record->header.type == RecordType::segment) {
      attempt->reason = "SEGMENT record inside the file";
      record.reset();
    }

    if (!record) {
      if (pos == 0) {
        // Without the header we do not know the nonce: take the index's, or the bytes
        // where the SEGMENT payload keeps it (only a bit flip in the header's own fields
        // leaves them intact; if they are wrong, nothing will verify).
        uint64_t nonce = 0;
        if (fallback_nonce) {
          nonce = *fallback_nonce;
        } else {
          auto raw = reader.view(kRecordHeaderSize + 16, sizeof nonce);
          if (!raw) return raw.error();
          if (raw->size() == sizeof nonce) nonce = wire::load<uint64_t>(raw->data());
        }
        result.nonce = nonce;
        seed = header_seed(nonce);
      }
      const uint64_t start = pos;
      for (pos += kRecordAlignment; pos < *size; pos += kRecordAlignment) {
        auto next = try_record(reader, pos, seed);
        if (!next) return next.error();
        if (next->record && next->record->header.type != RecordType::segment) break;
      }
      pos = std::min(pos, *size);
      gaps.push_back(Gap{start, pos, attempt->reason});
      continue;
    }

    const RecordHeader& header = record->header;
    if (header.type == RecordType::mark) {
      auto claim = decode_u64(record->payload);
      if (claim && *claim <= pos) claimed_durable = std::max(claimed_durable, *claim);
    }
    std::string_view payload =
        header.type == RecordType::chunk ? std::string_view() : record->payload;
    if (gaps.empty()) {
      visit(header, pos, payload);
      result.records++;
    } else {
      deferred.push_back(Deferred{header, pos, std::string(payload)});
    }
    pos += record->size;
    if (header.type == RecordType::seal) {
      result.sealed = true;
      seal_end = pos;
      break;
    }
  }

  if (result.sealed && seal_end < *size) {
    gaps.push_back(Gap{seal_end, *size, "data after the SEAL record"});
  }
  const uint64_t durable = result.sealed ? seal_end : claimed_durable;
  uint64_t tail_start = *size;
  if (!result.sealed) {
    for (const Gap& gap : gaps) {
      if (gap.start >= durable) {
        tail_start = gap.start;
        break;
      }
    }
  }
  for (const Gap& gap : gaps) {
    if (gap.start < tail_start) {
      result.corruption.push_back(ScanProblem{gap.start, gap.end - gap.start, gap.what});
    }
  }
  for (const Deferred& d : deferred) {
    if (d.offset >= tail_start) break;
    visit(d.header, d.offset, d.payload);
    result.records++;
  }
  result.valid_end = tail_start;
  result.durable_claim = durable;
  result.tail_bytes = *size - tail_start;
  return result;
}

Result<uint64_t> verified_run(volume::FileIo& io, int fd, uint64_t offset, uint64_t nonce) {
  auto size = io.size(fd);
  if (!size) return size.error();
  // Only the SEGMENT record sits at 0, under another seed: a run of the nonce's records
  // starts after it.
  if (offset == 0) return offset;
  BlockReader reader(io, fd, *size);
  const uint32_t seed = header_seed(nonce);
  uint64_t pos = offset;
  while (pos < *size) {
    auto attempt = try_record(reader, pos, seed);
    if (!attempt) return attempt.error();
    if (!attempt->record || attempt->record->header.type == RecordType::segment) break;
    pos += attempt->record->size;
    if (attempt->record->header.type == RecordType::seal) break;
  }
  return pos;
}

}  // namespace postcore::spool
