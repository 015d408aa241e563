// `postcore spool list | show ID | verify [--data-dir DIR] [--json]`: read-only
// inspection of the spool, usable while the appliance runs.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace postcore::spool {

// argv[0] is "spool". Exit status: 0 ok, 1 not found or corruption found, 2 usage.
int spool_command(int argc, char** argv, std::ostream& out, std::ostream& err);

// Where the data lives: the root of each healthy member of the volume set, as the
// dataplane last reported them (DATA/volume.status); the data directory itself without a
// report.
std::vector<std::string> member_roots(const std::string& data_dir);

// Shared with the mail store's tool, whose logs are segment trees like the spool's:
// `subdir` of every healthy member (DATA/spool, DATA/mail/log, ...) verified record by
// record, as text or JSON; `who` starts every error line. Exit status as above.
int verify_tree(const std::string& data_dir, const std::string& subdir, bool json,
                std::string_view who, std::ostream& out, std::ostream& err);
// The offline mending of `subdirs` from good copies on other members; only while the
// appliance is stopped (its data-directory lock is taken).
int repair_trees(const std::string& data_dir, const std::vector<std::string>& subdirs,
                 std::string_view who, std::ostream& out, std::ostream& err);

}  // namespace postcore::spool
