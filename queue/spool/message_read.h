// Reading one committed message back from its segment file. Every record is verified
// before any of its bytes are handed out, and the content as a whole is checked against
// the END record, so damaged data is reported, never served.
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

// On mirrored storage, for a read above that failed its checks (EBADMSG): the message is
// read from each copy in turn; the first copy on which it verifies serves it, and every copy
// on which it does not is mended from that one (a damaged record is never served, and
// repaired where a good copy exists). `delivered` content bytes reached `sink` before the
// failure (each verified, so the same on every good copy): they are not sent again.
Result<Envelope> read_envelope_from_copies(volume::FileIo& io, int fd, uint64_t nonce,
                                           const StoredMessage& message);
Result<void> read_content_from_copies(volume::FileIo& io, int fd, uint64_t nonce,
                                      const StoredMessage& message, const ContentSink& sink,
                                      uint64_t delivered);

}  // namespace postcore::spool
