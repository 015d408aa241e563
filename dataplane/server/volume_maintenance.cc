#include "dataplane/server/volume_maintenance.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
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

constexpr std::chrono::seconds kControlTimeout{2};

// DATA/volume.resilver: the member being resilvered and the job that asked for it.
struct Remembered {
  std::string root;
  uint64_t job = 0;
};

std::optional<Remembered> read_remembered(const std::string& path) {
  auto text = volume::read_small_file(path);
  if (!text) return std::nullopt;
  Remembered r;
  const size_t newline = text->find('\n');
  r.root = text->substr(0, newline);
  if (r.root.empty()) return std::nullopt;
  if (newline != std::string::npos) {
    const std::string id = text->substr(newline + 1, text->find('\n', newline + 1) - newline - 1);
    std::from_chars(id.data(), id.data() + id.size(), r.job);
  }
  return r;
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

Result<nlohmann::json> VolumeMaintenance::call(const std::string& command,
                                               const nlohmann::json& args) {
  if (!control_) {
    auto client = api::AdminClient::connect(data_dir_ + "/control.sock", kControlTimeout);
    if (!client) return client.error();
    control_.emplace(std::move(*client));
  }
  auto reply = control_->call(command, args);
  // A refusal leaves the connection usable; anything else (the control plane restarted, a
  // broken frame) starts again on a new one.
  if (!reply && reply.error().code != ENOENT && reply.error().code != EINVAL) control_.reset();
  return reply;
}

void VolumeMaintenance::poll() {
  if (!announced_ && !running_job_ && !running_) {
    // A resilver that a stop interrupted goes on, under the job that asked for it.
    const std::string remembered_path = data_dir_ + "/volume.resilver";
    if (auto remembered = read_remembered(remembered_path)) {
      log::info("volume", "resuming the resilver of {}", remembered->root);
      start_resilver(remembered->job, remembered->root);
    }
  }
  send_reports();
  take_next();
}

// Outcomes go first, each until the control plane has it (or says it never knew the job:
// it restarted meanwhile).
void VolumeMaintenance::send_reports() {
  for (;;) {
    Report report;
    {
      std::lock_guard lock(mutex_);
      if (reports_.empty()) return;
      report = reports_.front();
    }
    if (report.job != 0) {
      auto r = call("volume.report", {{"id", report.job},
                                      {"state", report.outcome.ok ? "done" : "failed"},
                                      {"outcome", report.outcome.text}});
      if (!r && r.error().code != ENOENT && r.error().code != EINVAL) return;  // next time
    }
    std::lock_guard lock(mutex_);
    reports_.pop_front();
  }
}

void VolumeMaintenance::take_next() {
  const bool busy = running_;
  if (!busy) running_job_.reset();
  nlohmann::json running = nlohmann::json::array();
  if (running_job_) running.push_back(*running_job_);
  auto reply = call("volume.next", {{"status", set_->status_text()},
                                    {"busy", busy},
                                    {"started", !announced_},
                                    {"running", std::move(running)}});
  if (!reply) return;  // the control plane is not there: it asks again when it is
  announced_ = true;
  const nlohmann::json* job =
      reply->is_object() && reply->contains("job") ? &(*reply)["job"] : nullptr;
  if (!job) {
    log::warning("volume", "volume.next: a reply without a job field");
    return;
  }
  if (!job->is_null() && !busy) run(*job);
}

void VolumeMaintenance::run(const nlohmann::json& job) {
  const auto id = job.find("id");
  const auto verb = job.find("verb");
  const auto member = job.find("member");
  if (id == job.end() || !id->is_number_unsigned() || verb == job.end() || !verb->is_string() ||
      member == job.end() || !member->is_string()) {
    log::error("volume", "a volume job that does not decode: {}", job.dump());
    return;
  }
  const uint64_t job_id = id->get<uint64_t>();
  const std::string root = member->get<std::string>();
  const std::string what = verb->get<std::string>();
  log::info("volume", "volume job {}: {} {}", job_id, what, root.empty() ? "the set" : root);
  if (what == "scrub") {
    start(job_id, [this] { return scrub(); });
  } else if (what == "replace") {
    start_resilver(job_id, root);
  } else if (what == "remove") {
    Outcome outcome = remove(root);
    std::lock_guard lock(mutex_);
    reports_.push_back({job_id, outcome});
  } else if (what == "add") {
    auto added = set_->add_member(root);
    Result<void> r = added ? volume::record_member_edit(data_dir_ + "/volume.members", "add", root)
                           : Result<void>(added.error());
    if (!r) {
      log::error("volume", "adding {}: {}", root, r.error().message);
      std::lock_guard lock(mutex_);
      reports_.push_back({job_id, {false, "cannot add " + root + ": " + r.error().message}});
      return;
    }
    start_resilver(job_id, root);  // it joins empty and is rebuilt like a replaced disk
  } else {
    std::lock_guard lock(mutex_);
    reports_.push_back({job_id, {false, "unknown volume job " + what}});
  }
}

void VolumeMaintenance::start(uint64_t job, std::function<Outcome()> work) {
  if (thread_.joinable()) thread_.join();
  running_ = true;
  running_job_ = job;
  thread_ = std::thread([this, job, work = std::move(work)] {
    Outcome outcome = work();
    {
      std::lock_guard lock(mutex_);
      // A job a stop interrupted is not over: it resumes, still running, after the restart.
      if (!stop_) reports_.push_back({job, std::move(outcome)});
    }
    running_ = false;
  });
}

void VolumeMaintenance::start_resilver(uint64_t job, const std::string& root) {
  std::optional<size_t> index = set_->member_index(root);
  const std::string remembered = data_dir_ + "/volume.resilver";
  if (!index || set_->healthy(*index)) {
    const std::string why = index ? "it is healthy already" : "not a member of the volume set";
    log::warning("volume", "resilver of {}: {}", root, why);
    ::unlink(remembered.c_str());
    std::lock_guard lock(mutex_);
    reports_.push_back({job, {false, root + ": " + why}});
    return;
  }
  if (!volume::write_file_durably(remembered, root + "\n" + std::to_string(job) + "\n"))
    log::warning("volume", "cannot remember the resilver in {}", remembered);
  start(job, [this, i = *index] { return resilver(i); });
}

VolumeMaintenance::Outcome VolumeMaintenance::remove(const std::string& root) {
  std::optional<size_t> index = set_->member_index(root);
  Result<void> r = index ? set_->remove_member(*index)
                         : Result<void>(make_error(ENOENT, "not a member of the set"));
  if (r) r = volume::record_member_edit(data_dir_ + "/volume.members", "remove", root);
  if (!r) {
    log::error("volume", "removing {}: {}", root, r.error().message);
    return {false, "cannot remove " + root + ": " + r.error().message};
  }
  const std::string remembered = data_dir_ + "/volume.resilver";
  if (auto resilvering = read_remembered(remembered); resilvering && resilvering->root == root)
    ::unlink(remembered.c_str());
  return {true, root + " removed from the set"};
}

VolumeMaintenance::Outcome VolumeMaintenance::scrub() {
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
  set_->set_activity("scrub", state);
  return {r.unrepaired.empty() && !stop_, "scrub " + state};
}

VolumeMaintenance::Outcome VolumeMaintenance::resilver(size_t member) {
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
  set_->set_activity("resilver", state);
  return {r.ok(), "resilver of " + state};
}

}  // namespace postcore::server
