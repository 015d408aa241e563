#include "queue/spool/queue_id.h"

#include <fmt/core.h>

#include <cctype>
#include <charconv>

namespace postcore::spool {
namespace {

template <typename T>
std::optional<T> parse_hex(std::string_view text) {
  T value = 0;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<uint32_t> parse_segment_name(std::string_view name, std::string_view suffix) {
  constexpr std::string_view prefix = "seg-";
  if (name.size() != prefix.size() + 8 + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return std::nullopt;
  }
  return parse_hex<uint32_t>(name.substr(prefix.size(), 8));
}

}  // namespace

std::string format_queue_id(const QueueId& id) {
  return fmt::format("{:04X}{:08X}{:08X}", id.shard, id.segment, id.number);
}

std::optional<QueueId> parse_queue_id(std::string_view text) {
  if (text.size() != 20) return std::nullopt;
  auto shard = parse_hex<uint16_t>(text.substr(0, 4));
  auto segment = parse_hex<uint32_t>(text.substr(4, 8));
  auto number = parse_hex<uint32_t>(text.substr(12, 8));
  if (!shard || !segment || !number) return std::nullopt;
  return QueueId{*shard, *segment, *number};
}

std::string shard_dir_name(uint16_t shard) {
  return fmt::format("shard-{:03}", shard);
}

std::string shard_dir(const std::string& data_dir, uint16_t shard) {
  return data_dir + "/spool/" + shard_dir_name(shard);
}

std::optional<uint16_t> parse_shard_dir_name(std::string_view name) {
  constexpr std::string_view prefix = "shard-";
  if (!name.starts_with(prefix) || name.size() < prefix.size() + 3) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > 0xFFFF) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

std::string segment_file_name(uint32_t segment) {
  return fmt::format("seg-{:08X}.log", segment);
}
std::string index_file_name(uint32_t segment) {
  return fmt::format("seg-{:08X}.idx", segment);
}

std::optional<uint32_t> parse_segment_file_name(std::string_view name) {
  return parse_segment_name(name, ".log");
}
std::optional<uint32_t> parse_index_file_name(std::string_view name) {
  return parse_segment_name(name, ".idx");
}

}  // namespace postcore::spool
