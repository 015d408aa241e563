// `postcore mailbox list ACCOUNT [--folder F] | show ACCOUNT UID [--folder F] | stats`
// `[--data-dir DIR] [--json]`: read-only inspection of the mail store, usable while the
// appliance runs. The store is rebuilt from its logs exactly as start-up does it
// (MailIndex); an entry whose write is still in progress may be shown an instant before
// it is durable.
#pragma once

#include <ostream>

namespace postcore::mailstore {

// argv[0] is "mailbox". Exit status: 0 ok, 1 not found or unreadable, 2 usage.
int mailbox_command(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace postcore::mailstore
