#include "control/cli/volume_job.h"

#include <cerrno>
#include <thread>

namespace postcore::cli {

Result<nlohmann::json> follow_volume_job(api::AdminClient& client, const nlohmann::json& job,
                                         const JobWait& wait) {
  nlohmann::json latest = job;
  const auto taken_by = std::chrono::steady_clock::now() + wait.take_timeout;
  for (;;) {
    const std::string state = latest["state"].get<std::string>();
    if (state == "done" || state == "failed") return latest;
    if (state == "running" && !wait.until_finished &&
        (!wait.ends_when_taken || std::chrono::steady_clock::now() >= taken_by))
      return latest;
    // Queued behind a job the dataplane is running: it is alive, and this one comes next.
    if (state == "queued" && latest.contains("behind") && !wait.until_finished) return latest;
    if (state == "queued" && std::chrono::steady_clock::now() >= taken_by) {
      return make_error(ETIMEDOUT,
                        "job " + std::to_string(latest["id"].get<uint64_t>()) +
                            " is queued, but the dataplane has not taken it (is it running?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto reply = client.call("volume.job", {{"id", latest["id"]}});
    if (!reply) return reply.error();
    latest = std::move(*reply);
  }
}

}  // namespace postcore::cli
