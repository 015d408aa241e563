// Admin API framing: how postcorectl and postcore-control talk over the Unix socket.
//
//   frame   = length (u32, big-endian, counts the bytes after it) version body
//   version = u8, kProtocolVersion
//   body    = one JSON object, UTF-8, nothing after it
//
// Decoding is strict: a frame longer than the limit, a length that disagrees with what
// arrives, an unknown version, anything but exactly one JSON object, or trailing bytes
// is an error, never a guess. The limit keeps a hostile or broken peer from making the
// control plane buffer without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace postcore::api {

constexpr uint8_t kProtocolVersion = 1;
// An import of 100,000 accounts (about 20 MB of JSON) fits; only root and the postcore
// group get as far as sending a frame.
constexpr size_t kMaxFrameBytes = 64u << 20;

std::string encode_frame(const nlohmann::json& body);

// Incremental decoder for a byte stream: feed what arrived, take whole frames out.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_bytes = kMaxFrameBytes) : max_(max_frame_bytes) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // A decoded frame, nothing yet (nullopt inside an ok Result), or an error after which
  // the connection must be closed.
  Result<std::optional<nlohmann::json>> next();
  // Bytes of an unfinished frame: at end of stream this means the peer sent a short frame.
  size_t pending() const { return buffer_.size(); }

 private:
  size_t max_;
  std::string buffer_;
};

// Decodes exactly one frame that must fill `bytes` entirely.
Result<nlohmann::json> decode_frame(std::string_view bytes,
                                    size_t max_frame_bytes = kMaxFrameBytes);

}  // namespace postcore::api
