// SecretString: an owned password that is wiped from memory when it goes away.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/base64.h"  // wipe_string

namespace postcore::auth {

// Holds a candidate password on its way to a worker thread. Moving leaves the source wiped
// (a moved-from short string would otherwise keep a copy in its inline buffer); destruction
// wipes. Copies are deliberately impossible so no stray duplicate outlives the request.
class SecretString {
 public:
  SecretString() = default;
  SecretString(std::string value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
    wipe_string(other.value_);
  }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      wipe_string(value_);
      value_ = std::move(other.value_);
      wipe_string(other.value_);
    }
    return *this;
  }
  ~SecretString() { wipe_string(value_); }

  std::string_view view() const { return value_; }
  void wipe() { wipe_string(value_); }

 private:
  std::string value_;
};

}  // namespace postcore::auth
