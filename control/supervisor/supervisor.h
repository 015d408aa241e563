// Supervisor: `postcore up`. Starts the appliance's processes, restarts one that dies
// (with backoff), forwards SIGTERM/SIGINT for a clean stop, and holds the data
// directory's lock so a second appliance cannot start on the same data.
#pragma once

#include <string>
#include <vector>

namespace postcore::supervisor {

struct ChildSpec {
  std::string name;               // for logs
  std::string executable;         // absolute path
  std::vector<std::string> args;  // argv[1..]
};

struct Options {
  std::string data_dir;  // absolute
  std::vector<ChildSpec> children;
};

// Runs until SIGTERM/SIGINT (returns 0 once every child has stopped) or until a child
// fails at its very first start (returns 1: a configuration or environment problem that
// restarting cannot fix).
int run(const Options& options);

}  // namespace postcore::supervisor
