// Decoder for BDAT chunk data (RFC 3030): octets are taken as they are, with no dot
// processing and no line length limit. Unless the message is BINARYMIME, a CR or LF that is
// not part of a CRLF pair is refused or turned into CRLF, as for DATA; a pair may straddle
// two chunks.
#pragma once

#include <string_view>

#include "dataplane/smtp/body_writer.h"

namespace postcore::smtp {

class ChunkDecoder {
 public:
  // check_line_endings: false for BINARYMIME. normalise: as for DataDecoder.
  void start(bool check_line_endings, bool normalise);

  // Consumes all of input (the caller cuts it at the chunk's end).
  void decode(std::string_view input, BodyWriter& out);

  // After the LAST chunk: a CR at the very end had no LF.
  void finish(BodyWriter& out);

 private:
  void bare_line_ending(BodyWriter& out);

  bool check_line_endings_ = false;
  bool normalise_ = false;
  bool cr_pending_ = false;  // the last octet seen was a CR (already passed on)
};

}  // namespace postcore::smtp
