// The directory most tests resolve against, and a field-by-field comparison of
// DirectoryData (the model has no operator==: the production code never needs one).
#pragma once

#include "control/directory/model.h"

namespace postcore::directory::testing {

DirectoryData sample_directory();
bool same_data(const DirectoryData& a, const DirectoryData& b);

}  // namespace postcore::directory::testing
