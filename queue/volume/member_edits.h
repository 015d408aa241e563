// Membership changes made at run time (postcorectl volume add / remove) are kept in
// DATA/volume.members, one "add ROOT" or "remove ROOT" line each (written with
// write-then-rename), and applied in order to the profile's members at every start.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace postcore::volume {

std::vector<std::string> apply_member_edits(std::vector<std::string> members,
                                            const std::string& edits_path);
Result<void> record_member_edit(const std::string& edits_path, const std::string& verb,
                                const std::string& root);

}  // namespace postcore::volume
