// The service extensions listed in the EHLO reply (RFC 5321 4.1.1.1), built from one table
// so that extensions that depend on configuration (STARTTLS, AUTH) are one row each.
#pragma once

#include <string>

#include "dataplane/smtp/config.h"

namespace postcore::smtp {

// Appends the whole multi-line 250 reply: "250-<hostname>" then one line per extension, the
// last as "250 ".
void append_ehlo_reply(const Config& config, std::string& out);

}  // namespace postcore::smtp
