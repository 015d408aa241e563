// The ENVELOPE record payload: a versioned, strictly decoded image of an Envelope.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/envelope.h"

namespace postcore::spool {

// Refuses (EMSGSIZE) an envelope that decode_envelope would not accept back: a field
// over 64 KiB, more than 2^20 recipients, or more than a record can hold.
Result<std::string> encode_envelope(const Envelope& envelope);

// Rejects unknown versions, out-of-range enum values, short input and trailing bytes.
Result<Envelope> decode_envelope(std::string_view payload);

}  // namespace postcore::spool
