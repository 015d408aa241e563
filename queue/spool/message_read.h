// Reading one committed message back from its segment file. Every record is verified
// before any of its bytes are handed out, and the content as a whole is checked against
// the END record, so damaged data is reported, never served. On mirrored storage a read
// that fails its checks goes on from another copy (the pieces already handed out were
// verified, so they are the same there), and the copies that differ from the one that
// served it are mended from it.
#pragma once

#include <functional>
#include <string_view>

#include "common/result.h"
#include "queue/envelope.h"
#include "queue/spool/stored_message.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

// Receives the content piece by piece; returning an error stops the read.
using ContentSink = std::function<Result<void>(std::string_view piece)>;

Result<Envelope> read_envelope(volume::FileIo& io, int fd, uint64_t nonce,
                               const StoredMessage& message);

// Streams the content to `sink`, one verified chunk at a time, so a 50 MiB message is
// never held whole. On an error the sink may already have received a prefix (each
// piece of it verified); callers discard it.
Result<void> read_content(volume::FileIo& io, int fd, uint64_t nonce, const StoredMessage& message,
                          const ContentSink& sink);

}  // namespace postcore::spool
