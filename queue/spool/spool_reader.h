// SpoolReader: read-only inspection of a data directory's spool, for `postcore spool`.
//
// Safe while the appliance runs: files are opened read-only, nothing is written, a
// segment deleted under it is skipped, and the tail a writer is still appending to is
// treated like a torn tail (ignored, not reported as damage). A message is listed once
// its END record is visible, which may be an instant before its datasync completes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "queue/envelope.h"
#include "queue/spool/stored_message.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

struct ListedMessage {
  std::string queue_id;
  uint16_t shard = 0;
  std::string file;
  uint64_t offset = 0;  // of the ENVELOPE record
  uint64_t size = 0;    // content bytes
  DoneBits done;
  std::optional<Envelope> envelope;    // empty when it failed verification
  std::string problem;                 // why it is empty
  std::optional<std::string> content;  // with list(true): the verified content
};

struct ShownMessage {
  ListedMessage listing;
  std::string content;
};

struct VerifyProblem {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string what;
};

struct VerifyReport {
  uint64_t shards = 0;
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t messages = 0;    // committed messages found, done or not
  uint64_t bytes = 0;       // segment bytes read
  uint64_t tail_bytes = 0;  // being written, or torn by a crash: not damage
  std::vector<VerifyProblem> problems;
};

class SpoolReader {
 public:
  // The spool of a data directory: DATA/spool/shard-NNN.
  SpoolReader(volume::FileIo& io, std::string data_dir);
  // Shards in the same format elsewhere (ROOT/shard-NNN), such as the mail store's logs.
  static SpoolReader at_root(volume::FileIo& io, std::string root);

  // Live messages (some recipient not done) of every shard, oldest first; with
  // `with_content`, each with its content too (every CRC verified), read in one pass.
  Result<std::vector<ListedMessage>> list(bool with_content = false);
  // One message still held by the spool, with its content; every CRC verified.
  Result<ShownMessage> show(std::string_view queue_id);
  // Reads every record of every segment, bodies included, and checks each index
  // against its segment.
  Result<VerifyReport> verify();

  std::string spool_dir() const { return root_; }

 private:
  struct OpenSegment;
  struct ShardState;

  Result<std::vector<uint16_t>> shards();
  Result<ShardState> load_shard(uint16_t shard, bool full_verify, VerifyReport* report);

  volume::FileIo& io_;
  std::string root_;
};

}  // namespace postcore::spool
