// Whether one member's copy of a spool file is intact: what the scrub and the resilver ask
// before they trust a copy enough to copy it onto another member.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/volume/file_io.h"

namespace postcore::spool {

// An index: it decodes and its CRC verifies.
Result<void> check_index_copy(std::string_view bytes);

// A segment, record by record from the open file `fd`: no damaged region. With
// `sealed_whole`, also sealed with nothing after its last record (a sealed segment); without,
// a tail that does not verify is allowed (the segment being written, or one a crash left).
Result<void> check_segment_copy(volume::FileIo& io, int fd, bool sealed_whole);

// For a file under a volume member, named by its path relative to the member's root:
// checks the spool's segments (a tail allowed) and indexes; every other file passes.
// The resilver's ResilverOptions::verify.
Result<void> check_member_file(volume::FileIo& io, int fd, const std::string& relative);

}  // namespace postcore::spool
