// How postcorectl shows a reply to a person: one line per object for lists, "key: value"
// lines for one object, nothing for a change that succeeded (as Unix tools do).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace postcore::cli {

void print_text(std::ostream& out, const std::string& command, const nlohmann::json& reply);

}  // namespace postcore::cli
