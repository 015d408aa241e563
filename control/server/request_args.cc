#include "control/server/request_args.h"

#include <cerrno>

namespace postcore::control {

Error RequestArgs::wrong_type(const char* name, const char* type) const {
  return make_error(EINVAL, command_ + ": argument \"" + name + "\" must be " + type);
}

const nlohmann::json* RequestArgs::find(const char* name) {
  read_.insert(name);
  auto it = args_.find(name);
  return it == args_.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> RequestArgs::string(const char* name) {
  const nlohmann::json* v = find(name);
  if (!v) return make_error(EINVAL, command_ + ": argument \"" + name + "\" is required");
  if (!v->is_string()) return wrong_type(name, "a string");
  return v->get<std::string>();
}

Result<std::optional<std::string>> RequestArgs::optional_string(const char* name) {
  const nlohmann::json* v = find(name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(name, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<bool> RequestArgs::boolean(const char* name, bool fallback) {
  const nlohmann::json* v = find(name);
  if (!v) return fallback;
  if (!v->is_boolean()) return wrong_type(name, "true or false");
  return v->get<bool>();
}

Result<std::optional<uint64_t>> RequestArgs::optional_number(const char* name) {
  const nlohmann::json* v = find(name);
  if (!v) return std::optional<uint64_t>();
  // Either integer kind: a JSON parser makes 7 unsigned, a json built in code signed.
  if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0))
    return wrong_type(name, "a whole number");
  return std::optional<uint64_t>(v->get<uint64_t>());
}

Result<std::vector<std::string>> RequestArgs::strings(const char* name) {
  const nlohmann::json* v = find(name);
  std::vector<std::string> out;
  if (!v) return out;
  if (!v->is_array()) return wrong_type(name, "a list of strings");
  for (const auto& item : *v) {
    if (!item.is_string()) return wrong_type(name, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::optional<std::vector<std::string>>> RequestArgs::optional_strings(const char* name) {
  if (!find(name)) return std::optional<std::vector<std::string>>();
  auto list = strings(name);
  if (!list) return list.error();
  return std::optional<std::vector<std::string>>(std::move(*list));
}

Result<void> RequestArgs::finish() const {
  for (auto it = args_.begin(); it != args_.end(); ++it)
    if (!read_.count(it.key()))
      return make_error(EINVAL, command_ + ": unknown argument \"" + it.key() + "\"");
  return {};
}

}  // namespace postcore::control
