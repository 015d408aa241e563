// Tests of netcfg against a real kernel, in a network namespace of their own: the test
// process's network is never touched.
#pragma once

#include <functional>
#include <string>

namespace postcore::netcfg::testing {

// Runs `body` in a forked child that first moves into a fresh network namespace, and
// returns the line the child reported: body's result, or "skip: ..." where namespaces are
// not allowed (EPERM), or what failed. A child that hangs is killed after 10 s.
std::string in_private_network(const std::function<std::string()>& body);

// True for a "skip: ..." report.
bool skipped(const std::string& report);

}  // namespace postcore::netcfg::testing
