// The status writer: what a thread of its own writes is the newest text published, and a
// synchronous write comes after everything published before it.
#include "queue/volume/status_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "mirror_test_fixture.h"

namespace postcore::volume {
namespace {

class StatusWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "status-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StatusWriterTest, TheNewestPublishedTextIsWrittenBesideItsMetrics) {
  {
    StatusWriter writer(dir_ + "/volume.status");
    for (int i = 0; i <= 500; i++)
      writer.publish("status " + std::to_string(i) + "\n", "metrics " + std::to_string(i) + "\n");
  }  // the writer writes what is pending before it stops
  EXPECT_EQ(read_text(dir_ + "/volume.status"), "status 500\n");
  EXPECT_EQ(read_text(dir_ + "/volume.prom"), "metrics 500\n");
}

TEST_F(StatusWriterTest, AWriteNowComesAfterWhatWasPublishedBefore) {
  StatusWriter writer(dir_ + "/volume.status");
  for (int i = 0; i < 100; i++) writer.publish("published\n", "published\n");
  writer.write_now("now\n", "now metrics\n");
  EXPECT_EQ(read_text(dir_ + "/volume.status"), "now\n");
  EXPECT_EQ(read_text(dir_ + "/volume.prom"), "now metrics\n");
}

TEST_F(StatusWriterTest, WithoutAPathNothingIsWritten) {
  StatusWriter writer("");
  writer.publish("a", "b");
  writer.write_now("c", "d");
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

}  // namespace
}  // namespace postcore::volume
