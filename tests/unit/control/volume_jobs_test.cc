// The volume jobs between postcorectl, the control plane and the dataplane, through the
// admin API's command table: a request is queued until the dataplane takes it, reported on
// by id, never handed out twice; a job the dataplane no longer runs is failed, not left
// running for ever; ids go on across restarts, so an old report never lands on a new job.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "control/server/control_commands.h"

namespace postcore::control {
namespace {

using nlohmann::json;

class VolumeJobsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobs-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    std::filesystem::create_directories(dir_ + "/control");
    auto opened = store::Store::open(dir_ + "/config.db", {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    commands_ = std::make_unique<ControlCommands>(*store_, dir_ + "/control", dir_);
  }
  void TearDown() override {
    commands_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<json> run(const std::string& command, json args = json::object()) {
    return commands_->dispatch(Peer{1, 0, 0}, command, args);
  }
  json ok(const std::string& command, json args = json::object()) {
    auto r = run(command, std::move(args));
    EXPECT_TRUE(r.ok()) << command << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : json();
  }
  // What the dataplane sends every 200 ms: disk2 is out.
  std::string status() const {
    return "set abc generation 4\nmember 0 healthy 4 0 0 " + dir_ +
           "/disk1\t\nmember 1 degraded 3 2 0 " + dir_ + "/disk2\tI/O error\n";
  }
  json next(json running = json::array(), bool busy = false) {
    return ok("volume.next", {{"status", status()}, {"busy", busy}, {"running", running}});
  }
  Result<json> report(const json& job, const std::string& state, const std::string& outcome) {
    return run("volume.report", {{"id", job["id"]},
                                 {"verb", job["verb"]},
                                 {"member", job["member"]},
                                 {"state", state},
                                 {"outcome", outcome}});
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ControlCommands> commands_;
};

TEST_F(VolumeJobsTest, ARequestWaitsForTheDataplaneAndIsFollowedToItsOutcome) {
  // Before the dataplane spoke there is no set to name a member of.
  auto early = run("volume.replace", {{"member", "disk2"}});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ENOENT);
  EXPECT_TRUE(next()["job"].is_null());

  json job = ok("volume.replace", {{"member", "disk2"}});
  EXPECT_EQ(job["state"], "queued");
  EXPECT_EQ(job["member"], dir_ + "/disk2");
  // Asked twice, it is the same job.
  EXPECT_EQ(ok("volume.replace", {{"member", "disk2"}})["id"], job["id"]);
  // A healthy member has nothing to rebuild.
  EXPECT_EQ(run("volume.replace", {{"member", "disk1"}}).error().code, EINVAL);
  // Busy with another job: nothing is handed out, and this one says what it waits for.
  EXPECT_TRUE(next(json::array({uint64_t{77}}), true)["job"].is_null());
  EXPECT_EQ(ok("volume.job", {{"id", job["id"]}})["behind"], 77);
  json taken = next()["job"];
  EXPECT_EQ(taken["id"], job["id"]);
  EXPECT_EQ(taken["verb"], "replace");
  EXPECT_EQ(ok("volume.job", {{"id", job["id"]}})["state"], "running");
  EXPECT_TRUE(next(json::array({taken["id"]}))["job"].is_null());  // taken once only

  ASSERT_TRUE(report(job, "done", "resilver of disk2: done").ok());
  json done = ok("volume.job", {{"id", job["id"]}});
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["outcome"], "resilver of disk2: done");
  // Now a new request is a new job.
  EXPECT_NE(ok("volume.replace", {{"member", "disk2"}})["id"], job["id"]);
}

TEST_F(VolumeJobsTest, AJobTheDataplaneNoLongerRunsFailsAndOneItResumedRunsOn) {
  next();
  json scrub = ok("volume.scrub");
  json replace = ok("volume.replace", {{"member", "disk2"}});
  EXPECT_EQ(next()["job"]["id"], scrub["id"]);  // oldest first
  ASSERT_TRUE(report(scrub, "running", "").ok());
  // The dataplane restarted: it runs nothing now, and the scrub died with it.
  EXPECT_EQ(next()["job"]["id"], replace["id"]);
  json lost = ok("volume.job", {{"id", scrub["id"]}});
  EXPECT_EQ(lost["state"], "failed");
  EXPECT_NE(lost["outcome"].get<std::string>().find("lost"), std::string::npos);
  // Restarted again while resilvering: it resumed that one, which stays running.
  next(json::array({replace["id"]}), true);
  EXPECT_EQ(ok("volume.job", {{"id", replace["id"]}})["state"], "running");
  // A report about the failed job changes nothing.
  EXPECT_EQ(report(scrub, "done", "late").error().code, EINVAL);
  EXPECT_EQ(ok("volume.job", {{"id", scrub["id"]}})["state"], "failed");
}

TEST_F(VolumeJobsTest, IdsGoOnAcrossRestartsSoAnOldReportNeverLandsOnANewJob) {
  next();
  json old_job = ok("volume.replace", {{"member", "disk2"}});
  next();  // taken
  // The control plane restarts; the dataplane still runs the old job.
  commands_ = std::make_unique<ControlCommands>(*store_, dir_ + "/control", dir_);
  next(json::array({old_job["id"]}), true);
  json scrub = ok("volume.scrub");
  EXPECT_GT(scrub["id"].get<uint64_t>(), old_job["id"].get<uint64_t>());
  // The old job's report is about a job this control plane never handed out.
  EXPECT_EQ(report(old_job, "done", "resilver done").error().code, ENOENT);
  // Nor can a report name a job by its number alone.
  json wrong = scrub;
  wrong["verb"] = "replace";
  EXPECT_EQ(report(wrong, "done", "").error().code, ENOENT);
  EXPECT_EQ(ok("volume.job", {{"id", scrub["id"]}})["state"], "queued");
}

// An idle dataplane may still list a job it finished and has not reported yet: a queued job
// is behind nothing then, and is handed out.
TEST_F(VolumeJobsTest, AJobIsBehindOnlyWhatTheDataplaneIsBusyWith) {
  next();
  json scrub = ok("volume.scrub");
  EXPECT_EQ(next()["job"]["id"], scrub["id"]);
  json replace = ok("volume.replace", {{"member", "disk2"}});
  EXPECT_EQ(replace["behind"], scrub["id"]);  // taken a moment ago: the dataplane runs it
  EXPECT_EQ(next(json::array({scrub["id"]}), true)["job"], nullptr);
  EXPECT_EQ(ok("volume.job", {{"id", replace["id"]}})["behind"], scrub["id"]);
  // Finished, not yet reported, not busy: the replace is next, and waits for nothing.
  json taken = next(json::array({scrub["id"]}), false)["job"];
  EXPECT_EQ(taken["id"], replace["id"]);
  json remove = ok("volume.remove", {{"member", "disk1"}});
  EXPECT_EQ(remove["behind"], replace["id"]);
  next(json::array({replace["id"]}), false);  // idle again, the replace's report on its way
  EXPECT_FALSE(ok("volume.job", {{"id", remove["id"]}}).contains("behind"));
}

TEST_F(VolumeJobsTest, WhatTheDataplaneSendsIsDecodedStrictly) {
  auto bad = run("volume.next", {{"status", "member zero healthy\n"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"running", "7"}}).ok());
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"running", json::array({-1})}}).ok());
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"started", true}}).ok());
  json job = ok("volume.scrub");
  json unknown = job;
  unknown["id"] = 99;
  EXPECT_EQ(report(unknown, "done", "").error().code, ENOENT);
  EXPECT_EQ(report(job, "done", "").error().code, EINVAL);  // queued: nobody runs it
  next();
  EXPECT_EQ(report(job, "queued", "").error().code, EINVAL);
  EXPECT_EQ(report(job, "finished", "").error().code, EINVAL);
  EXPECT_FALSE(run("volume.report", {{"id", job["id"]}, {"state", "done"}, {"outcome", ""}}).ok());
  EXPECT_EQ(run("volume.job", {{"id", 12345}}).error().code, ENOENT);
}

TEST_F(VolumeJobsTest, StatusComesFromTheDataplanesLatestReport) {
  next();
  json status = ok("volume.status");
  ASSERT_EQ(status["members"].size(), 2u);
  EXPECT_EQ(status["members"][1]["state"], "degraded");
  EXPECT_EQ(status["members"][1]["reason"], "I/O error");
}

}  // namespace
}  // namespace postcore::control
