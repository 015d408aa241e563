#include "control/server/volume_jobs.h"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common/log.h"
#include "queue/volume/small_file.h"

namespace postcore::control {
namespace {

constexpr size_t kHistory = 200;  // finished jobs kept for postcorectl to look up

}  // namespace

VolumeJobs::VolumeJobs(std::string data_dir) : data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) return;
  ids_path_ = data_dir_ + "/control/volume.jobs";
  if (auto text = volume::read_small_file(ids_path_)) {
    uint64_t last = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), last);
    if (ec == std::errc() && (end == text->data() + text->size() || *end == '\n'))
      next_id_ = last + 1;
    else
      log::warning("control", "{}: not a job number; volume job ids start again at 1", ids_path_);
  }
}

std::string_view to_string(VolumeJob::State state) {
  switch (state) {
    case VolumeJob::State::queued:
      return "queued";
    case VolumeJob::State::running:
      return "running";
    case VolumeJob::State::done:
      return "done";
    case VolumeJob::State::failed:
      return "failed";
  }
  return "?";
}

std::optional<VolumeJob::State> parse_job_state(std::string_view text) {
  for (auto s : {VolumeJob::State::queued, VolumeJob::State::running, VolumeJob::State::done,
                 VolumeJob::State::failed})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

nlohmann::json job_json(const VolumeJob& job, uint64_t behind) {
  nlohmann::json out = {{"id", job.id},
                        {"verb", job.verb},
                        {"member", job.member},
                        {"state", to_string(job.state)},
                        {"outcome", job.outcome}};
  if (job.state == VolumeJob::State::queued && behind) out["behind"] = behind;
  return out;
}

const VolumeJob& VolumeJobs::enqueue(const std::string& verb, const std::string& member) {
  for (const VolumeJob& j : jobs_)
    if (j.verb == verb && j.member == member &&
        (j.state == VolumeJob::State::queued || j.state == VolumeJob::State::running))
      return j;
  while (jobs_.size() >= kHistory && jobs_.front().state != VolumeJob::State::queued &&
         jobs_.front().state != VolumeJob::State::running)
    jobs_.pop_front();
  jobs_.push_back(VolumeJob{next_id_++, verb, member, VolumeJob::State::queued, {}});
  if (!ids_path_.empty()) {
    if (auto r = volume::write_file_durably(ids_path_, std::to_string(jobs_.back().id) + "\n"); !r)
      log::warning("control", "cannot keep the last volume job id: {}", r.error().message);
  }
  log::info("control", "volume job {}: {} {} queued for the dataplane", jobs_.back().id, verb,
            member.empty() ? "the set" : member);
  return jobs_.back();
}

VolumeJob* VolumeJobs::find_mutable(uint64_t id) {
  for (VolumeJob& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

std::optional<VolumeJob> VolumeJobs::find(uint64_t id) const {
  for (const VolumeJob& j : jobs_)
    if (j.id == id) return j;
  return std::nullopt;
}

Result<void> VolumeJobs::dataplane_status(const std::string& status_text) {
  if (auto parsed = volume::parse_volume_status(status_text); !parsed) return parsed.error();
  status_text_ = status_text;
  return {};
}

void VolumeJobs::dataplane_runs(const std::vector<uint64_t>& running, bool busy) {
  busy_with_ = busy && !running.empty() ? running.front() : 0;
  for (VolumeJob& j : jobs_) {
    if (j.state != VolumeJob::State::running) continue;
    if (std::find(running.begin(), running.end(), j.id) != running.end()) continue;
    j.state = VolumeJob::State::failed;
    j.outcome = "lost: the dataplane is not running it (it restarted, or never received it)";
    log::warning("control", "volume job {}: {}", j.id, j.outcome);
  }
}

std::optional<VolumeJob> VolumeJobs::take() {
  for (VolumeJob& j : jobs_) {
    if (j.state != VolumeJob::State::queued) continue;
    j.state = VolumeJob::State::running;
    busy_with_ = j.id;
    return j;
  }
  return std::nullopt;
}

Result<void> VolumeJobs::report(uint64_t id, const std::string& verb, const std::string& member,
                                VolumeJob::State state, const std::string& outcome) {
  VolumeJob* j = find_mutable(id);
  if (!j || j->verb != verb || j->member != member)
    return make_error(ENOENT, "no volume job " + std::to_string(id) + " " + verb + " " + member);
  if (j->state != VolumeJob::State::running)
    return make_error(EINVAL, "volume job " + std::to_string(id) + " is " +
                                  std::string(to_string(j->state)) + ", not running");
  if (state == VolumeJob::State::queued)
    return make_error(EINVAL, "a job the dataplane took cannot be queued again");
  j->state = state;
  j->outcome = outcome;
  if (state != VolumeJob::State::running)
    log::info("control", "volume job {}: {} {}: {}", id, j->verb, to_string(state), outcome);
  return {};
}

Result<std::vector<volume::MemberStatus>> VolumeJobs::members(
    std::map<std::string, std::string>* activities) const {
  std::string text;
  if (status_text_) {
    text = *status_text_;
  } else {
    auto file = volume::read_small_file(data_dir_ + "/volume.status");
    if (!file)
      return make_error(ENOENT, "no volume status in " + data_dir_ +
                                    " (the dataplane reports it once it has started)");
    text = std::move(*file);
  }
  return volume::parse_volume_status(text, activities);
}

}  // namespace postcore::control
