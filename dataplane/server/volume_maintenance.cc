#include "dataplane/server/volume_maintenance.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "common/log.h"
#include "queue/spool/copy_check.h"
#include "queue/spool/spool_scrub.h"
#include "queue/volume/resilver.h"
#include "queue/volume/small_file.h"

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

// The first line of a request or record file, if there is one.
std::optional<std::string> read_line(const std::string& path) {
  auto text = volume::read_small_file(path);
  if (!text) return std::nullopt;
  return text->substr(0, text->find('\n'));
}

bool write_durably(const std::string& path, const std::string& text) {
  return volume::write_file_durably(path, text + "\n").ok();
}

}  // namespace

VolumeMaintenance::VolumeMaintenance(std::shared_ptr<volume::VolumeSet> set, std::string data_dir,
                                     uint64_t bytes_per_second,
                                     std::chrono::milliseconds io_timeout)
    : set_(std::move(set)),
      data_dir_(std::move(data_dir)),
      bytes_per_second_(bytes_per_second),
      io_timeout_(io_timeout) {}

VolumeMaintenance::~VolumeMaintenance() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void VolumeMaintenance::start(std::function<void()> job) {
  if (thread_.joinable()) thread_.join();
  running_ = true;
  thread_ = std::thread([this, job = std::move(job)] {
    job();
    running_ = false;
  });
}

void VolumeMaintenance::poll() {
  if (running_) return;
  const std::string remembered = data_dir_ + "/volume.resilver";
  const std::string resilver_request = data_dir_ + "/volume.resilver-request";
  const std::string scrub_request = data_dir_ + "/volume.scrub-request";
  std::optional<std::string> member;
  if (!resume_checked_) {
    // A resilver that a stop interrupted goes on.
    resume_checked_ = true;
    member = read_line(remembered);
    if (member) log::info("volume", "resuming the resilver of {}", *member);
  }
  // Membership changes: a removal at once; an addition is resilvered like a replacement.
  if (auto root = read_line(data_dir_ + "/volume.remove-request")) {
    ::unlink((data_dir_ + "/volume.remove-request").c_str());
    std::optional<size_t> index = set_->member_index(*root);
    Result<void> r = index ? set_->remove_member(*index)
                           : Result<void>(make_error(ENOENT, "not a member of the set"));
    if (r) r = volume::record_member_edit(data_dir_ + "/volume.members", "remove", *root);
    if (!r) log::error("volume", "removing {}: {}", *root, r.error().message);
    if (read_line(remembered) == root) ::unlink(remembered.c_str());
    return;
  }
  if (auto root = read_line(data_dir_ + "/volume.add-request")) {
    ::unlink((data_dir_ + "/volume.add-request").c_str());
    auto added = set_->add_member(*root);
    Result<void> r = added ? volume::record_member_edit(data_dir_ + "/volume.members", "add", *root)
                           : Result<void>(added.error());
    if (!r) {
      log::error("volume", "adding {}: {}", *root, r.error().message);
      return;
    }
    member = *root;
    if (!write_durably(remembered, *member))
      log::warning("volume", "cannot remember the resilver in {}", remembered);
  }
  if (!member) {
    member = read_line(resilver_request);
    if (member) {
      ::unlink(resilver_request.c_str());
      if (!write_durably(remembered, *member))
        log::warning("volume", "cannot remember the resilver in {}", remembered);
    }
  }
  if (member) {
    std::optional<size_t> index = set_->member_index(*member);
    if (!index || set_->healthy(*index)) {
      log::warning("volume", "resilver of {}: {}", *member,
                   index ? "it is healthy already" : "not a member of the volume set");
      ::unlink(remembered.c_str());
      return;
    }
    start([this, i = *index] { resilver(i); });
    return;
  }
  if (::access(scrub_request.c_str(), F_OK) == 0) {
    ::unlink(scrub_request.c_str());
    start([this] { scrub(); });
  }
}

void VolumeMaintenance::scrub() {
  const std::string started = utc_now();
  set_->set_activity("scrub", "running since " + started);
  log::info("volume", "scrub started");
  spool::ScrubOptions options;
  options.stop = &stop_;
  options.bytes_per_second = bytes_per_second_;
  spool::ScrubReport r = spool::scrub_spool(*set_, "spool", options);
  std::string state = fmt::format(
      "{} at {} (started {}): {} files, {} bytes read, {} mismatched, {} repaired, {} "
      "unrepaired",
      stop_ ? "stopped" : "done", utc_now(), started, r.files, r.bytes, r.mismatches, r.repaired,
      r.unrepaired.size());
  log::info("volume", "scrub {}", state);
  for (const std::string& problem : r.unrepaired) log::error("volume", "scrub: {}", problem);
  set_->set_activity("scrub", std::move(state));
}

void VolumeMaintenance::resilver(size_t member) {
  const std::string root = set_->member_root(member);
  const std::string started = utc_now();
  set_->set_activity("resilver", fmt::format("{}: running since {}", root, started));
  log::info("volume", "resilver of {} started", root);
  volume::ResilverOptions options;
  options.skip_dirs = {"control"};  // the control plane rebuilds its store itself
  options.verify = spool::check_member_file;
  // Changes in flight are answered or timed out (and their member taken out) by the
  // cores' once-a-second tick after io_timeout.
  options.drain_timeout = io_timeout_ + std::chrono::seconds(2);
  options.stop = &stop_;
  options.bytes_per_second = bytes_per_second_;
  options.progress = [&](const std::string& line) {
    set_->set_activity("resilver", fmt::format("{}: running since {}: {}", root, started, line));
  };
  auto r = volume::resilver(*set_, member, options);
  std::string state;
  if (r) {
    state = fmt::format(
        "{}: done at {} (started {}): {} files, {} bytes read, {} written, {} "
        "removed, {} copied from another member, {} with no good copy",
        root, utc_now(), started, r->files, r->bytes_read, r->bytes_written, r->removed,
        r->from_other_copy, r->damaged.size());
    for (const std::string& problem : r->damaged) log::error("volume", "resilver: {}", problem);
    ::unlink((data_dir_ + "/volume.resilver").c_str());
  } else if (stop_) {
    state = fmt::format("{}: interrupted at {}; it resumes at the next start", root, utc_now());
  } else {
    state = fmt::format("{}: failed at {}: {}", root, utc_now(), r.error().message);
    ::unlink((data_dir_ + "/volume.resilver").c_str());
  }
  log::info("volume", "resilver {}", state);
  set_->set_activity("resilver", std::move(state));
}

}  // namespace postcore::server
