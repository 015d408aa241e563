// Following a volume job (postcorectl volume replace | add | remove | scrub): the control
// plane queues it and the dataplane takes it within 200 ms; postcorectl says what happened
// rather than that something was asked for.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/api/admin_client.h"

namespace postcore::cli {

struct JobWait {
  // Until it ended (done or failed), not only until the dataplane took it.
  bool until_finished = false;
  // A job that ends as soon as it is taken (a removal): once taken, followed to its end.
  bool ends_when_taken = false;
  // How long the dataplane may take to take it: past this it is not running.
  std::chrono::milliseconds take_timeout{10000};
};

// Asks for the job `job` (the reply that queued it) every 100 ms until the dataplane took
// it (or is busy with another, which it then runs first), or until it ended; returns its
// latest state. ETIMEDOUT when nobody took it in time.
Result<nlohmann::json> follow_volume_job(api::AdminClient& client, const nlohmann::json& job,
                                         const JobWait& wait);

}  // namespace postcore::cli
