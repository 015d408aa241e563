// The volume jobs between postcorectl, the control plane and the dataplane, through the
// admin API's command table: a request is queued until the dataplane takes it, reported on
// by id, never handed out twice, and a job the dataplane lost by restarting is failed, not
// left running for ever.
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
  json next(bool busy = false, bool started = false, json running = json::array()) {
    return ok("volume.next",
              {{"status", status()}, {"busy", busy}, {"started", started}, {"running", running}});
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
  // Busy: nothing is handed out.
  EXPECT_TRUE(next(true)["job"].is_null());
  json taken = next()["job"];
  EXPECT_EQ(taken["id"], job["id"]);
  EXPECT_EQ(taken["verb"], "replace");
  EXPECT_EQ(ok("volume.job", {{"id", job["id"]}})["state"], "running");
  EXPECT_TRUE(next()["job"].is_null());  // taken once only

  ok("volume.report",
     {{"id", job["id"]}, {"state", "done"}, {"outcome", "resilver of disk2: done"}});
  json done = ok("volume.job", {{"id", job["id"]}});
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["outcome"], "resilver of disk2: done");
  // Now a new request is a new job.
  EXPECT_NE(ok("volume.replace", {{"member", "disk2"}})["id"], job["id"]);
}

TEST_F(VolumeJobsTest, JobsTheDataplaneLostByRestartingFailAndTheOneItResumedRuns) {
  next();
  json scrub = ok("volume.scrub");
  json replace = ok("volume.replace", {{"member", "disk2"}});
  EXPECT_EQ(next()["job"]["id"], scrub["id"]);  // oldest first
  ok("volume.report", {{"id", scrub["id"]}, {"state", "running"}, {"outcome", ""}});
  // The dataplane restarted: the scrub died with it, nothing else was running.
  EXPECT_EQ(next(false, true)["job"]["id"], replace["id"]);
  json lost = ok("volume.job", {{"id", scrub["id"]}});
  EXPECT_EQ(lost["state"], "failed");
  EXPECT_EQ(lost["outcome"], "interrupted: the dataplane restarted");
  // Restarted again while resilvering: it resumed that one, which stays running.
  next(true, true, json::array({replace["id"]}));
  EXPECT_EQ(ok("volume.job", {{"id", replace["id"]}})["state"], "running");
}

TEST_F(VolumeJobsTest, WhatTheDataplaneSendsIsDecodedStrictly) {
  auto bad = run("volume.next", {{"status", "member zero healthy\n"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"running", "7"}}).ok());
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"running", json::array({-1})}}).ok());
  EXPECT_FALSE(run("volume.next", {{"status", status()}, {"extra", true}}).ok());
  EXPECT_EQ(run("volume.report", {{"id", 99}, {"state", "done"}, {"outcome", ""}}).error().code,
            ENOENT);
  json job = ok("volume.scrub");
  EXPECT_EQ(
      run("volume.report", {{"id", job["id"]}, {"state", "queued"}, {"outcome", ""}}).error().code,
      EINVAL);
  EXPECT_EQ(run("volume.report", {{"id", job["id"]}, {"state", "finished"}, {"outcome", ""}})
                .error()
                .code,
            EINVAL);
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
