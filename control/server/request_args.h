// RequestArgs: strict reading of a request's "args" object. Every argument a command
// reads is checked for its type; finish() refuses any argument nobody read, so a typo
// in a client is an error, not a silently ignored option.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace postcore::control {

class RequestArgs {
 public:
  RequestArgs(const nlohmann::json& args, std::string command)
      : args_(args), command_(std::move(command)) {}

  Result<std::string> string(const char* name);
  Result<std::optional<std::string>> optional_string(const char* name);
  Result<bool> boolean(const char* name, bool fallback);
  Result<std::optional<uint64_t>> optional_number(const char* name);
  Result<std::vector<std::string>> strings(const char* name);  // absent: empty
  // Absent: nullopt, so that "leave it" and "make it empty" differ.
  Result<std::optional<std::vector<std::string>>> optional_strings(const char* name);
  // The argument as it came, for structured values the command decodes itself; null when
  // absent.
  const nlohmann::json* raw(const char* name) { return find(name); }
  Result<void> finish() const;

 private:
  Error wrong_type(const char* name, const char* type) const;
  const nlohmann::json* find(const char* name);

  const nlohmann::json& args_;
  std::string command_;
  std::set<std::string> read_;
};

}  // namespace postcore::control
