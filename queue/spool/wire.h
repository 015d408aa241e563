// Little-endian integer encoding and a strict decoder for the spool's binary formats.
// Strict means: reading past the end is an error, and callers check that nothing is
// left over, so a short or padded payload is rejected rather than guessed at.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace postcore::spool::wire {

static_assert(std::endian::native == std::endian::little,
              "the spool formats are little-endian and encoded with memcpy");

template <typename T>
inline void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
inline void store(char* at, T value) {
  std::memcpy(at, &value, sizeof(T));
}

template <typename T>
inline T load(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

inline void put_string(std::string& out, std::string_view s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : rest_(bytes) {}

  template <typename T>
  bool get(T* out) {
    if (rest_.size() < sizeof(T)) return fail();
    *out = load<T>(rest_.data());
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool get_string(std::string* out, size_t max_length) {
    uint32_t length = 0;
    if (!get(&length) || length > max_length || rest_.size() < length) return fail();
    out->assign(rest_.data(), length);
    rest_.remove_prefix(length);
    return true;
  }
  bool skip(size_t n) {
    if (rest_.size() < n) return fail();
    rest_.remove_prefix(n);
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

 private:
  bool fail() {
    ok_ = false;
    return false;
  }
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace postcore::spool::wire
