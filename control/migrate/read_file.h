// Reading an import file whole: the parsers take bytes, and the CLI takes a path.
#pragma once

#include <string>

#include "common/result.h"

namespace postcore::migrate {

// The file's bytes; errors are "PATH: reason" with the errno in Error::code.
Result<std::string> read_file(const std::string& path);

}  // namespace postcore::migrate
