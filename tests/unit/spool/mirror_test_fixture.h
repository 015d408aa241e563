// The fixture of the mirrored-volume tests: a volume set of two members over the in-memory
// FileIo (their volume.meta files on real directories), with helpers to drive completions.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "queue/volume/fake_file_io.h"
#include "queue/volume/mirror_file_io.h"
#include "queue/volume/volume_set.h"

namespace postcore::volume {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "mirror-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    roots_ = {dir_ + "/m0", dir_ + "/m1"};
    open_set();
  }
  void TearDown() override {
    io_.reset();
    set_.reset();  // its status writer is done with the directory
    std::filesystem::remove_all(dir_);
  }

  void open_set(std::vector<std::string> roots = {}) {
    io_.reset();
    if (roots.empty()) roots = roots_;
    auto set = VolumeSet::open(dir_ + "/logical", roots, dir_ + "/status");
    ASSERT_TRUE(set.ok()) << set.error().message;
    set_ = *set;
    // The fake knows no directories but its own: each member's root is made in it.
    for (const std::string& root : roots) fake_.put_directories(root);
    io_ = std::make_unique<MirroredFileIo>(
        set_, fake_, [this](std::function<void()> fn) { deferred_.push_back(std::move(fn)); });
  }

  // Runs every queued completion, including deferred ones; returns them in order.
  void run() {
    while (fake_.run_pending() > 0 || !deferred_.empty()) {
      auto now = std::move(deferred_);
      deferred_.clear();
      for (auto& fn : now) fn();
    }
  }

  std::string logical(const std::string& name) { return dir_ + "/logical/" + name; }
  std::string member(size_t m, const std::string& name) { return roots_[m] + "/" + name; }

  int write_and_sync(int fd, uint64_t offset, const std::string& data) {
    int wrote = -1, synced = -1;
    io_->write(fd, offset, data.data(), data.size(), [&](int r) {
      wrote = r;
      io_->datasync(fd, [&](int s) { synced = s; });
    });
    run();
    return wrote < 0 ? wrote : synced;
  }

  std::string dir_;
  std::vector<std::string> roots_;
  FakeFileIo fake_;
  std::shared_ptr<VolumeSet> set_;
  std::unique_ptr<MirroredFileIo> io_;
  std::vector<std::function<void()>> deferred_;
};

}  // namespace postcore::volume
