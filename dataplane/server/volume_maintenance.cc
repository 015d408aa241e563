#include "dataplane/server/volume_maintenance.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <string_view>

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

// DATA/volume.resilver: the member being resilvered, then the job that asked for it (its
// number and verb) when one did. A job that does not read back is forgotten, not guessed:
// the control plane then fails it as lost, and the resilver still resumes.
struct Remembered {
  std::string root;
  uint64_t job = 0;
  std::string verb = "replace";
};

std::optional<Remembered> read_remembered(const std::string& path) {
  auto text = volume::read_small_file(path);
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  Remembered r;
  r.root = volume::next_line(rest);
  if (r.root.empty()) return std::nullopt;
  const std::string_view id = volume::next_line(rest), verb = volume::next_line(rest);
  if (verb == "replace" || verb == "add") {
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), r.job);
    if (ec != std::errc() || end != id.data() + id.size()) r.job = 0;
    r.verb = verb;
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
  if (!resume_checked_) {
    // A resilver that a stop interrupted goes on, under the job that asked for it.
    resume_checked_ = true;
    if (auto remembered = read_remembered(remembered_path())) {
      log::info("volume", "resuming the resilver of {}", remembered->root);
      start_resilver({remembered->job, remembered->verb, remembered->root});
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
    if (report.job.id != 0) {
      auto r = call("volume.report", {{"id", report.job.id},
                                      {"verb", report.job.verb},
                                      {"member", report.job.member},
                                      {"state", report.outcome.ok ? "done" : "failed"},
                                      {"outcome", report.outcome.text}});
      if (!r && r.error().code != ENOENT && r.error().code != EINVAL) return;  // next time
    }
    std::lock_guard lock(mutex_);
    reports_.pop_front();
  }
}

// Every call says which jobs are this process's: the one running and any finished one not
// yet reported (the job thread queues its report before it says it is done), so the
// control plane can tell a job lost in a restart from one still under way.
void VolumeMaintenance::take_next() {
  const bool busy = running_;
  nlohmann::json running = nlohmann::json::array();
  if (busy && running_job_.id) running.push_back(running_job_.id);
  {
    std::lock_guard lock(mutex_);
    for (const Report& r : reports_)
      if (r.job.id) running.push_back(r.job.id);
  }
  auto reply =
      call("volume.next",
           {{"status", set_->status_text()}, {"busy", busy}, {"running", std::move(running)}});
  if (!reply) return;  // the control plane is not there: it asks again when it is
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
  const Job j{id->get<uint64_t>(), verb->get<std::string>(), member->get<std::string>()};
  log::info("volume", "volume job {}: {} {}", j.id, j.verb,
            j.member.empty() ? "the set" : j.member);
  if (j.verb == "scrub") {
    start(j, [this] { return scrub(); });
  } else if (j.verb == "replace") {
    start_resilver(j);
  } else if (j.verb == "remove") {
    Outcome outcome = remove(j.member);
    std::lock_guard lock(mutex_);
    reports_.push_back({j, outcome});
  } else if (j.verb == "add") {
    auto added = set_->add_member(j.member);
    Result<void> r =
        added ? volume::record_member_edit(data_dir_ + "/volume.members", "add", j.member)
              : Result<void>(added.error());
    if (!r) {
      log::error("volume", "adding {}: {}", j.member, r.error().message);
      std::lock_guard lock(mutex_);
      reports_.push_back({j, {false, "cannot add " + j.member + ": " + r.error().message}});
      return;
    }
    start_resilver(j);  // it joins empty and is rebuilt like a replaced disk
  } else {
    std::lock_guard lock(mutex_);
    reports_.push_back({j, {false, "unknown volume job " + j.verb}});
  }
}

void VolumeMaintenance::start(const Job& job, std::function<Outcome()> work) {
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

void VolumeMaintenance::start_resilver(const Job& job) {
  const std::string& root = job.member;
  std::optional<size_t> index = set_->member_index(root);
  const std::string remembered = remembered_path();
  if (!index || set_->healthy(*index)) {
    const std::string why = index ? "it is healthy already" : "not a member of the volume set";
    log::warning("volume", "resilver of {}: {}", root, why);
    ::unlink(remembered.c_str());
    std::lock_guard lock(mutex_);
    reports_.push_back({job, {false, root + ": " + why}});
    return;
  }
  if (!volume::write_file_durably(remembered,
                                  root + "\n" + std::to_string(job.id) + "\n" + job.verb + "\n"))
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
  const std::string remembered = remembered_path();
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
  spool::ScrubReport r = spool::scrub_trees(*set_, spool::kSegmentTrees, options);
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
    ::unlink(remembered_path().c_str());
  } else if (stop_) {
    state = fmt::format("{}: interrupted at {}; it resumes at the next start", root, utc_now());
  } else {
    state = fmt::format("{}: failed at {}: {}", root, utc_now(), r.error().message);
    ::unlink(remembered_path().c_str());
  }
  log::info("volume", "resilver {}", state);
  set_->set_activity("resilver", state);
  // A member rebuilt with files that had no good copy anywhere joined, but the job did not
  // do all it was asked: it fails, and the files are in the log.
  return {r.ok() && r->damaged.empty(), "resilver of " + state};
}

}  // namespace postcore::server
