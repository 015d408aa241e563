#include "dataplane/server/volume_scrub.h"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/spool/spool_scrub.h"

namespace postcore::server {
namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

VolumeScrub::VolumeScrub(std::shared_ptr<volume::VolumeSet> set, std::string data_dir)
    : set_(std::move(set)), request_path_(data_dir + "/volume.scrub-request") {}

VolumeScrub::~VolumeScrub() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void VolumeScrub::poll() {
  if (running_ || ::access(request_path_.c_str(), F_OK) != 0) return;
  ::unlink(request_path_.c_str());
  if (thread_.joinable()) thread_.join();
  running_ = true;
  const std::string started = utc_now();
  set_->set_scrub_state("running since " + started);
  log::info("volume", "scrub started");
  thread_ = std::thread([this, started] {
    spool::ScrubOptions options;
    options.stop = &stop_;
    spool::ScrubReport r = spool::scrub_spool(*set_, "spool", options);
    std::string state = fmt::format(
        "{} at {} (started {}): {} files, {} bytes read, {} mismatched, {} repaired, {} "
        "unrepaired",
        stop_ ? "stopped" : "done", utc_now(), started, r.files, r.bytes, r.mismatches, r.repaired,
        r.unrepaired.size());
    log::info("volume", "scrub {}", state);
    for (const std::string& problem : r.unrepaired) log::error("volume", "scrub: {}", problem);
    set_->set_scrub_state(std::move(state));
    running_ = false;
  });
}

}  // namespace postcore::server
