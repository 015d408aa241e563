// Publishing and loading the snapshot file in a scratch directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "control/directory/snapshot_codec.h"
#include "control/directory/snapshot_file.h"
#include "tests/unit/directory/sample_directory.h"

namespace postcore::directory {
namespace {

using testing::same_data;
using testing::sample_directory;

class SnapshotFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = std::filesystem::temp_directory_path() / "pc-directory-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const char* name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(SnapshotFile, PublishThenLoad) {
  ASSERT_TRUE(publish_snapshot(dir_, sample_directory()).ok());
  Result<DirectoryData> loaded = load_snapshot(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(same_data(*loaded, sample_directory()));
  EXPECT_FALSE(std::filesystem::exists(path(kSnapshotTempName)));
}

TEST_F(SnapshotFile, OnlyTheOwnerMayReadIt) {
  ASSERT_TRUE(publish_snapshot(dir_, sample_directory()).ok());
  struct stat st;
  ASSERT_EQ(::stat(path(kSnapshotFileName).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SnapshotFile, ReplacesThePreviousSnapshot) {
  DirectoryData data = sample_directory();
  ASSERT_TRUE(publish_snapshot(dir_, data).ok());
  data.version = 43;
  data.accounts.pop_back();
  ASSERT_TRUE(publish_snapshot(dir_, data).ok());
  Result<DirectoryData> loaded = load_snapshot(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(same_data(*loaded, data));
}

TEST_F(SnapshotFile, StampChangesWithEveryPublishEvenOfTheSameData) {
  DirectoryData data = sample_directory();
  ASSERT_TRUE(publish_snapshot(dir_, data).ok());
  Result<SnapshotStamp> previous = snapshot_stamp(dir_);
  ASSERT_TRUE(previous.ok()) << previous.error().message;
  EXPECT_EQ(previous->data_version, 42u);
  EXPECT_EQ(previous->size, encode_snapshot(data).size());
  for (int i = 0; i < 5; i++) {
    Result<SnapshotStamp> same = snapshot_stamp(dir_);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(*same, *previous);
    ASSERT_TRUE(publish_snapshot(dir_, data).ok());
    Result<SnapshotStamp> next = snapshot_stamp(dir_);
    ASSERT_TRUE(next.ok());
    EXPECT_NE(*next, *previous);
    previous = next;
  }
}

TEST_F(SnapshotFile, NothingPublishedYet) {
  Result<DirectoryData> loaded = load_snapshot(dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ENOENT);
  EXPECT_NE(loaded.error().message.find(path(kSnapshotFileName)), std::string::npos);
  Result<SnapshotStamp> stamp = snapshot_stamp(dir_);
  ASSERT_FALSE(stamp.ok());
  EXPECT_EQ(stamp.error().code, ENOENT);
}

TEST_F(SnapshotFile, DamagedFileIsRefusedNamingFileAndOffset) {
  ASSERT_TRUE(publish_snapshot(dir_, sample_directory()).ok());
  std::string image = encode_snapshot(sample_directory());
  image[100] = static_cast<char>(image[100] ^ 4);
  std::ofstream(path(kSnapshotFileName), std::ios::binary | std::ios::trunc) << image;
  Result<DirectoryData> loaded = load_snapshot(dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, EBADMSG);
  EXPECT_EQ(loaded.error().message, path(kSnapshotFileName) +
                                        ": directory snapshot: CRC mismatch at byte " +
                                        std::to_string(image.size() - 4));
}

TEST_F(SnapshotFile, StampRefusesAFileThatIsNotASnapshot) {
  std::ofstream(path(kSnapshotFileName), std::ios::binary) << "hello";
  Result<SnapshotStamp> stamp = snapshot_stamp(dir_);
  ASSERT_FALSE(stamp.ok());
  EXPECT_EQ(stamp.error().code, EBADMSG);
}

TEST_F(SnapshotFile, PublishIntoAMissingDirectoryFails) {
  Result<void> published = publish_snapshot(dir_ + "/absent", sample_directory());
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.error().code, ENOENT);
  EXPECT_NE(published.error().message.find("absent/snapshot.tmp"), std::string::npos);
}

TEST_F(SnapshotFile, ALeftoverTempFileIsOverwritten) {
  std::ofstream(path(kSnapshotTempName), std::ios::binary) << "half-written by a crashed publisher";
  ASSERT_TRUE(publish_snapshot(dir_, sample_directory()).ok());
  EXPECT_TRUE(load_snapshot(dir_).ok());
  EXPECT_FALSE(std::filesystem::exists(path(kSnapshotTempName)));
}

}  // namespace
}  // namespace postcore::directory
