#include "control/api/frame.h"

#include <cerrno>

namespace postcore::api {
namespace {

uint32_t read_u32(std::string_view b) {
  return (uint32_t{static_cast<uint8_t>(b[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[2])} << 8) | uint32_t{static_cast<uint8_t>(b[3])};
}

Result<nlohmann::json> decode_body(std::string_view payload) {
  if (payload.empty()) return make_error(EPROTO, "empty frame");
  if (static_cast<uint8_t>(payload[0]) != kProtocolVersion)
    return make_error(EPROTO, "unsupported protocol version " +
                                  std::to_string(static_cast<uint8_t>(payload[0])) +
                                  " (this side speaks " + std::to_string(kProtocolVersion) + ")");
  std::string_view text = payload.substr(1);
  // parse() rejects trailing non-whitespace; refuse trailing whitespace too: the length
  // prefix says exactly where the object ends.
  if (text.empty() || text.back() != '}')
    return make_error(EPROTO, "frame body is not one JSON object");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(EPROTO, "frame body is not valid JSON");
  if (!j.is_object()) return make_error(EPROTO, "frame body is not a JSON object");
  return j;
}

}  // namespace

std::string encode_frame(const nlohmann::json& body) {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  uint32_t n = static_cast<uint32_t>(text.size() + 1);
  std::string out;
  out.reserve(4 + n);
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.push_back(static_cast<char>(kProtocolVersion));
  out += text;
  return out;
}

Result<std::optional<nlohmann::json>> FrameReader::next() {
  if (buffer_.size() < 4) return std::optional<nlohmann::json>();
  uint32_t n = read_u32(buffer_);
  if (n > max_)
    return make_error(EMSGSIZE, "frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                                    std::to_string(max_));
  if (buffer_.size() - 4 < n) return std::optional<nlohmann::json>();
  auto body = decode_body(std::string_view(buffer_).substr(4, n));
  buffer_.erase(0, 4 + size_t{n});
  if (!body) return body.error();
  return std::optional<nlohmann::json>(std::move(*body));
}

Result<nlohmann::json> decode_frame(std::string_view bytes, size_t max_frame_bytes) {
  if (bytes.size() < 4)
    return make_error(EPROTO, "short frame: " + std::to_string(bytes.size()) + " bytes");
  uint32_t n = read_u32(bytes);
  if (n > max_frame_bytes)
    return make_error(EMSGSIZE, "frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                                    std::to_string(max_frame_bytes));
  if (bytes.size() - 4 < n)
    return make_error(EPROTO, "short frame: length says " + std::to_string(n) + ", " +
                                  std::to_string(bytes.size() - 4) + " bytes arrived");
  if (bytes.size() - 4 > n)
    return make_error(EPROTO,
                      std::to_string(bytes.size() - 4 - n) + " trailing bytes after the frame");
  return decode_body(bytes.substr(4));
}

}  // namespace postcore::api
