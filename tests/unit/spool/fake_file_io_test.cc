#include "queue/volume/fake_file_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace postcore::volume {
namespace {

using Fault = FakeFileIo::Fault;

struct Fixture {
  FakeFileIo io;
  int fd = -1;
  Fixture() {
    EXPECT_TRUE(io.mkdir("/d").ok());
    EXPECT_TRUE(io.sync_dir("/").ok());
    auto opened = io.open("/d/f", O_RDWR | O_CREAT, 0600);
    EXPECT_TRUE(opened.ok());
    fd = *opened;
  }
  int write(uint64_t offset, std::string_view data) {
    int result = 1234;
    io.write(fd, offset, data.data(), data.size(), [&](int r) { result = r; });
    EXPECT_EQ(result, 1234) << "completion ran inline";
    io.run_pending();
    return result;
  }
  int datasync() {
    int result = 1234;
    io.datasync(fd, [&](int r) { result = r; });
    io.run_pending();
    return result;
  }
};

TEST(FakeFileIo, CrashKeepsOnlyWhatWasSynced) {
  Fixture f;
  ASSERT_TRUE(f.io.sync_dir("/d").ok());
  EXPECT_EQ(f.write(0, "durable"), 7);
  EXPECT_EQ(f.datasync(), 0);
  EXPECT_EQ(f.write(7, " lost"), 5);
  EXPECT_EQ(f.io.contents("/d/f"), "durable lost");
  f.io.crash();
  EXPECT_EQ(f.io.contents("/d/f"), "durable");
  EXPECT_EQ(f.io.open_descriptors(), 0u);
}

TEST(FakeFileIo, NamesNeedSyncDir) {
  FakeFileIo io;
  ASSERT_TRUE(io.mkdir("/d").ok());
  ASSERT_TRUE(io.sync_dir("/").ok());
  auto a = io.open("/d/a", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(io.sync(*a).ok());
  io.crash();
  EXPECT_FALSE(io.exists("/d/a"));

  auto b = io.open("/d/b", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(io.sync_dir("/d").ok());
  ASSERT_TRUE(io.rename("/d/b", "/d/c").ok());
  io.crash();
  EXPECT_TRUE(io.exists("/d/b"));
  EXPECT_FALSE(io.exists("/d/c"));
}

// A new directory, like a new file, is durable only once its parent is synced; a file whose
// name was synced into a directory that was not is lost with it.
TEST(FakeFileIo, DirectoriesNeedSyncDirOfTheirParent) {
  FakeFileIo io;
  ASSERT_TRUE(io.mkdir("/a").ok());
  ASSERT_TRUE(io.mkdir("/a/b").ok());
  ASSERT_TRUE(io.sync_dir("/a").ok());  // b's name is in a, but a's is not in /
  auto f = io.open("/a/b/f", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(io.sync(*f).ok());
  ASSERT_TRUE(io.sync_dir("/a/b").ok());
  io.crash();
  EXPECT_FALSE(io.exists("/a/b/f"));
  EXPECT_FALSE(io.list_dir("/a").ok());

  ASSERT_TRUE(io.mkdir("/a").ok());
  ASSERT_TRUE(io.mkdir("/a/b").ok());
  ASSERT_TRUE(io.sync_dir("/").ok());
  ASSERT_TRUE(io.sync_dir("/a").ok());
  f = io.open("/a/b/f", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(io.sync_dir("/a/b").ok());
  io.crash();
  EXPECT_TRUE(io.exists("/a/b/f"));
}

TEST(FakeFileIo, PendingCompletionsAreDroppedByCrash) {
  Fixture f;
  bool ran = false;
  f.io.write(f.fd, 0, "x", 1, [&](int) { ran = true; });
  f.io.crash();
  EXPECT_EQ(f.io.run_pending(), 0u);
  EXPECT_FALSE(ran);
}

struct FaultCase {
  const char* name;
  Fault fault;
  int expected_write;  // result of writing 10 bytes
  int expected_sync;
  size_t stored;
};

TEST(FakeFileIo, NamedFaultsFireOnceAndOnlyWhereArmed) {
  const std::vector<FaultCase> cases = {
      {"short write", Fault::short_write, 5, 0, 5},
      {"ENOSPC", Fault::enospc_on_write, -ENOSPC, 0, 0},
      {"EIO on write", Fault::eio_on_write, -EIO, 0, 0},
      {"EIO on datasync", Fault::eio_on_datasync, 10, -EIO, 10},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.io.inject(c.fault, 1, "/d/other");
    EXPECT_EQ(f.write(0, "0123456789"), 10) << c.name << ": fired on the wrong file";
    f.io.clear_faults();
    f.io.inject(c.fault);
    EXPECT_EQ(f.write(10, "0123456789"), c.expected_write) << c.name;
    EXPECT_EQ(f.datasync(), c.expected_sync) << c.name;
    EXPECT_EQ(f.io.contents("/d/f").size(), 10 + c.stored) << c.name;
    EXPECT_EQ(f.write(20, "0123456789"), 10) << c.name << ": fired twice";
  }
}

TEST(FakeFileIo, FailedDatasyncMakesNothingDurable) {
  Fixture f;
  f.write(0, "abc");
  f.io.inject(Fault::eio_on_datasync);
  EXPECT_EQ(f.datasync(), -EIO);
  f.io.crash();
  EXPECT_EQ(f.io.contents("/d/f"), "");
}

TEST(FakeFileIo, SynchronousFaults) {
  Fixture f;
  f.write(0, "abcdefgh");
  f.io.inject(Fault::short_read);
  char buf[8];
  auto n = f.io.read(f.fd, 0, buf, 8);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  f.io.inject(Fault::eio_on_read);
  EXPECT_FALSE(f.io.read(f.fd, 0, buf, 8).ok());
  f.io.inject(Fault::eio_on_sync);
  EXPECT_FALSE(f.io.sync(f.fd).ok());
  f.io.inject(Fault::fail_rename);
  EXPECT_FALSE(f.io.rename("/d/f", "/d/g").ok());
  f.io.inject(Fault::fail_open);
  EXPECT_FALSE(f.io.open("/d/f", O_RDONLY, 0).ok());
  EXPECT_TRUE(f.io.open("/d/f", O_RDONLY, 0).ok());
}

TEST(FakeFileIo, OpenFlagsAndDirectories) {
  FakeFileIo io;
  EXPECT_FALSE(io.open("/missing/f", O_RDWR | O_CREAT, 0600).ok());
  EXPECT_FALSE(io.mkdir("/a/b").ok());
  ASSERT_TRUE(io.mkdir("/a").ok());
  ASSERT_TRUE(io.mkdir("/a").ok());
  ASSERT_TRUE(io.mkdir("/a/b").ok());
  EXPECT_FALSE(io.open("/a/f", O_RDWR, 0).ok());
  auto fd = io.open("/a/f", O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd.ok());
  EXPECT_FALSE(io.open("/a/f", O_RDWR | O_CREAT | O_EXCL, 0600).ok());
  auto ro = io.open("/a/f", O_RDONLY, 0);
  ASSERT_TRUE(ro.ok());
  int result = 0;
  io.write(*ro, 0, "x", 1, [&](int r) { result = r; });
  io.run_pending();
  EXPECT_EQ(result, -EBADF);
  auto names = io.list_dir("/a");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"f", "b"}));
}

}  // namespace
}  // namespace postcore::volume
