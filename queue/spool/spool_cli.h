// `postcore spool list | show ID | verify [--data-dir DIR] [--json]`: read-only
// inspection of the spool, usable while the appliance runs.
#pragma once

#include <ostream>

namespace postcore::spool {

// argv[0] is "spool". Exit status: 0 ok, 1 not found or corruption found, 2 usage.
int spool_command(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace postcore::spool
