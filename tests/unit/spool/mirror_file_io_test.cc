// Mirrored volumes over the in-memory FileIo: every write and datasync reaches every
// healthy member, a member that fails is taken out while the set goes on, the generation
// in each member's volume.meta keeps a member that missed writes out for good, and a read
// that fails its check on one member is served and mended from another.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "mirror_test_fixture.h"
#include "queue/volume/fake_file_io.h"
#include "queue/volume/mirror_file_io.h"
#include "queue/volume/resilver.h"
#include "queue/volume/volume_set.h"

namespace postcore::volume {
namespace {

TEST_F(MirrorTest, EveryWriteAndDatasyncReachesEveryMember) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("seg"), O_RDWR | O_CREAT | O_EXCL, 0640);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  EXPECT_EQ(write_and_sync(*fd, 0, "hello, world"), 0);
  EXPECT_EQ(fake_.durable_contents(member(0, "seg")), "hello, world");
  EXPECT_EQ(fake_.durable_contents(member(1, "seg")), "hello, world");
  EXPECT_EQ(fake_.counters().datasyncs, 2u);
  EXPECT_EQ(*io_->size(*fd), 12u);
  ASSERT_TRUE(io_->rename(logical("seg"), logical("seg.done")).ok());
  EXPECT_TRUE(fake_.exists(member(0, "seg.done")));
  EXPECT_TRUE(fake_.exists(member(1, "seg.done")));
  EXPECT_EQ(*io_->list_dir(dir_ + "/logical"), std::vector<std::string>{"seg.done"});
  EXPECT_FALSE(io_->open("/elsewhere/x", O_RDONLY, 0).ok());  // outside the set
}

TEST_F(MirrorTest, DeviceErrorsTakeAMemberOutAndTheSetGoesOn) {
  struct Case {
    FakeFileIo::Fault fault;
    const char* reason_part;
  };
  const Case cases[] = {
      {FakeFileIo::Fault::eio_on_write, "write to"},
      {FakeFileIo::Fault::enospc_on_write, "No space left on device"},
      {FakeFileIo::Fault::erofs_on_write, "Read-only file system"},
      {FakeFileIo::Fault::eio_on_datasync, "datasync of"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.fault));
    std::filesystem::remove_all(dir_ + "/m0");
    std::filesystem::remove_all(dir_ + "/m1");
    open_set();
    ASSERT_EQ(set_->healthy_count(), 2u);
    const uint64_t generation = set_->generation();
    ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
    auto fd = io_->open(logical("f"), O_RDWR | O_CREAT | O_TRUNC, 0640);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
    fake_.inject(c.fault, 1, "/m1/");
    EXPECT_EQ(write_and_sync(*fd, 0, "acknowledged"), 0);  // member 0 holds it durably
    EXPECT_EQ(fake_.durable_contents(member(0, "f")), "acknowledged");
    EXPECT_TRUE(set_->healthy(0));
    EXPECT_FALSE(set_->healthy(1));
    auto status = set_->status();
    EXPECT_EQ(status[1].state, MemberState::degraded);
    EXPECT_NE(status[1].reason.find(c.reason_part), std::string::npos) << status[1].reason;
    // The member still in moved on a generation before the write was acknowledged.
    EXPECT_EQ(set_->generation(), generation + 1);
    EXPECT_NE(
        read_text(roots_[0] + "/volume.meta").find("generation " + std::to_string(generation + 1)),
        std::string::npos);
    EXPECT_NE(
        read_text(roots_[1] + "/volume.meta").find("generation " + std::to_string(generation)),
        std::string::npos);
    EXPECT_NE(read_text(dir_ + "/status").find("member 1 degraded"), std::string::npos);
    // Later writes go to member 0 alone.
    const uint64_t writes = fake_.counters().writes;
    EXPECT_EQ(write_and_sync(*fd, 12, " more"), 0);
    EXPECT_EQ(fake_.counters().writes, writes + 1);
    ASSERT_TRUE(io_->close(*fd).ok());
  }
}

TEST_F(MirrorTest, AShortWriteIsContinuedWithTheRest) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  fake_.inject(FakeFileIo::Fault::short_write, 1, "/m1/");
  EXPECT_EQ(write_and_sync(*fd, 0, "twelve bytes"), 0);
  EXPECT_EQ(fake_.durable_contents(member(1, "f")), "twelve bytes");
  EXPECT_TRUE(set_->healthy(1));
  // The rest failing is the member's failure (a disk that filled up half way).
  fake_.inject(FakeFileIo::Fault::short_write, 1, "/m1/");
  fake_.inject(FakeFileIo::Fault::enospc_on_write, 1, "/m1/");
  EXPECT_EQ(write_and_sync(*fd, 12, "more bytes"), 0);
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_NE(set_->status()[1].reason.find("No space left on device"), std::string::npos);
}

TEST_F(MirrorTest, AMemberThatStopsAnsweringIsTakenOutAfterTheTimeout) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  fake_.inject(FakeFileIo::Fault::hang, 1, "/m1/");
  int wrote = 1;
  io_->write(*fd, 0, "waiting", 7, [&](int r) { wrote = r; });
  run();
  EXPECT_EQ(wrote, 1);  // member 1 never answered: no answer yet
  const auto now = std::chrono::steady_clock::now();
  io_->tick(now + std::chrono::seconds(29));
  EXPECT_EQ(wrote, 1);
  EXPECT_TRUE(set_->healthy(1));
  io_->tick(now + std::chrono::seconds(31));
  EXPECT_EQ(wrote, 7);  // done with member 0
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_NE(set_->status()[1].reason.find("Connection timed out"), std::string::npos)
      << set_->status()[1].reason;
  EXPECT_EQ(write_and_sync(*fd, 7, " more"), 0);
}

TEST_F(MirrorTest, WithNoHealthyMemberNothingIsAcknowledged) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  fake_.inject(FakeFileIo::Fault::eio_on_write, 2);
  EXPECT_EQ(write_and_sync(*fd, 0, "lost"), -EIO);
  EXPECT_EQ(set_->healthy_count(), 0u);
  // And from then on every call fails, asynchronous ones from outside the call.
  int result = 1;
  io_->write(*fd, 0, "x", 1, [&](int r) { result = r; });
  EXPECT_EQ(result, 1);
  run();
  EXPECT_EQ(result, -EIO);
  EXPECT_FALSE(io_->open(logical("g"), O_RDWR | O_CREAT, 0640).ok());
}

TEST_F(MirrorTest, AMemberThatMissedWritesIsNeverTrustedAgain) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/");
  EXPECT_EQ(write_and_sync(*fd, 0, "only on m0"), 0);
  ASSERT_FALSE(set_->healthy(1));
  // The disk "comes back" at the next start: its meta is older, so it stays out.
  open_set();
  EXPECT_TRUE(set_->healthy(0));
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_EQ(set_->status()[1].state, MemberState::stale);
  EXPECT_NE(set_->status()[1].reason.find("missed writes"), std::string::npos);
  // Also with the members listed the other way round.
  open_set({roots_[1], roots_[0]});
  EXPECT_FALSE(set_->healthy(0));
  EXPECT_TRUE(set_->healthy(1));
  // A new, empty member is not trusted either.
  open_set({roots_[0], roots_[1], dir_ + "/m2"});
  EXPECT_TRUE(set_->healthy(0));
  EXPECT_FALSE(set_->healthy(2));
  EXPECT_EQ(set_->status()[2].reason, "new member: holds nothing yet");
}

TEST_F(MirrorTest, AMemberThatDisagreesIsTakenOut) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(io_->close(*fd).ok());
  fake_.remove_file(member(1, "f"));  // gone from one member only
  EXPECT_TRUE(io_->unlink(logical("f")).ok());
  EXPECT_FALSE(set_->healthy(1));
  // Both agreeing on ENOENT is an answer, not a failure.
  auto gone = io_->unlink(logical("f"));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
  EXPECT_TRUE(set_->healthy(0));
}

TEST_F(MirrorTest, ABadCopyIsReadPastAndMended) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  const std::string block = "a block whose CRC32C is known";
  const uint32_t crc = crc32c(block);
  ASSERT_EQ(write_and_sync(*fd, 0, block), 0);
  auto check = [&](const void* data, size_t len) {
    return crc32c(std::string_view(static_cast<const char*>(data), len)) == crc;
  };
  for (size_t damaged : {0u, 1u}) {
    SCOPED_TRACE(damaged);
    fake_.flip_bit(member(damaged, "f"), 5, 3);
    // Whichever member the read starts with, the answer is the good block.
    for (int i = 0; i < 2; i++) {
      std::string buf(block.size(), '\0');
      auto got = io_->read_checked(*fd, 0, buf.data(), buf.size(), check);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(buf, block);
      run();
    }
    EXPECT_EQ(fake_.durable_contents(member(damaged, "f")), block);  // mended
    EXPECT_TRUE(set_->healthy(damaged));
  }
  EXPECT_EQ(set_->status()[0].repaired, 1u);
  EXPECT_EQ(set_->status()[1].repaired, 1u);
}

// Recovery of a segment that was still being written reads every member's copy: a copy
// with damaged records is mended from the intact one, and no message is lost.
void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The copy passes of a resilver, on real directories: the member ends byte-identical to
// the healthy one, what it had that the set has not is removed, and it joins at a new
// generation.
TEST_F(MirrorTest, ResilverRebuildsAMemberAndItJoinsAtANewGeneration) {
  const std::string big(700 * 1024, 'b');
  write_file(roots_[0] + "/spool/shard-000/seg-00000001.log", big);
  write_file(roots_[0] + "/spool/shard-001/seg-00000002.log", "short");
  set_->fail(1, EIO, "test");
  const uint64_t generation = set_->generation();
  write_file(roots_[1] + "/spool/shard-000/seg-00000001.log", big.substr(0, 1000) + "xx");
  write_file(roots_[1] + "/spool/shard-000/old-junk", "junk");
  write_file(roots_[1] + "/spool/shard-001/seg-00000002.log", "shorter than it was, and wrong");
  EXPECT_FALSE(volume::resilver(*set_, 0, {}).ok());  // healthy: nothing to do
  volume::ResilverOptions options;
  std::vector<std::string> progress;
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  auto r = volume::resilver(*set_, 1, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 2u);
  EXPECT_EQ(r->removed, 1u);
  EXPECT_EQ(progress.size(), 2u);
  EXPECT_TRUE(set_->healthy(1));
  EXPECT_EQ(set_->generation(), generation + 1);
  EXPECT_EQ(read_text(roots_[1] + "/spool/shard-000/seg-00000001.log"), big);
  EXPECT_EQ(read_text(roots_[1] + "/spool/shard-001/seg-00000002.log"), "short");
  EXPECT_FALSE(std::filesystem::exists(roots_[1] + "/spool/shard-000/old-junk"));
  for (const std::string& root : roots_) {
    EXPECT_NE(read_text(root + "/volume.meta").find("generation " + std::to_string(generation + 1)),
              std::string::npos)
        << root;
  }
}

TEST_F(MirrorTest, StateIsExportedAsPrometheusMetricsBesideTheStatus) {
  EXPECT_EQ(metrics_path_for("/d/volume.status"), "/d/volume.prom");
  EXPECT_EQ(metrics_path_for("/d/state"), "/d/state.prom");
  const std::string logical = dir_ + "/logical";
  auto line = [&](const std::string& name, const std::string& labels, const std::string& value) {
    return name + "{set=\"" + logical + "\"" + labels + "} " + value + "\n";
  };
  auto member = [&](size_t m) { return ",member=\"" + roots_[m] + "\""; };
  std::string text = read_text(dir_ + "/status.prom");
  EXPECT_NE(text.find(line("postcore_volume_members_healthy", "", "2")), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE postcore_volume_member_errors_total counter\n"), std::string::npos);
  set_->count_error(1);
  set_->fail(1, EIO, "test");
  text = read_text(dir_ + "/status.prom");
  EXPECT_EQ(text, set_->metrics_text());
  EXPECT_NE(text.find(line("postcore_volume_members_healthy", "", "1")), std::string::npos);
  EXPECT_NE(text.find(line("postcore_volume_generation", "", std::to_string(set_->generation()))),
            std::string::npos);
  EXPECT_NE(text.find(line("postcore_volume_member_state", member(1) + ",state=\"degraded\"", "1")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(line("postcore_volume_member_state", member(1) + ",state=\"healthy\"", "0")),
            std::string::npos);
  EXPECT_NE(text.find(line("postcore_volume_member_state", member(0) + ",state=\"healthy\"", "1")),
            std::string::npos);
  EXPECT_NE(text.find(line("postcore_volume_member_errors_total", member(1), "2")),
            std::string::npos)
      << text;
}

TEST_F(MirrorTest, ResilverLeavesDirectoriesAnotherProcessKeepsAlone) {
  write_file(roots_[0] + "/spool/shard-000/seg-00000001.log", "spool");
  write_file(roots_[0] + "/control/config.db", "the store, as member 0 holds it");
  write_file(roots_[0] + "/control/new-file", "only on member 0");
  set_->fail(1, EIO, "test");
  write_file(roots_[1] + "/control/config.db", "longer, and rewritten by its owner meanwhile");
  write_file(roots_[1] + "/control/only-here", "kept");
  volume::ResilverOptions options;
  options.skip_dirs = {"control"};
  auto r = volume::resilver(*set_, 1, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 1u);
  EXPECT_EQ(r->removed, 0u);
  EXPECT_EQ(read_text(roots_[1] + "/spool/shard-000/seg-00000001.log"), "spool");
  EXPECT_EQ(read_text(roots_[1] + "/control/config.db"),
            "longer, and rewritten by its owner meanwhile");
  EXPECT_EQ(read_text(roots_[1] + "/control/only-here"), "kept");
  EXPECT_FALSE(std::filesystem::exists(roots_[1] + "/control/new-file"));
}

TEST_F(MirrorTest, AMemberBeingRebuiltTakesWritesButServesNoReads) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(fd.ok());
  set_->fail(1, EIO, "test");
  EXPECT_EQ(write_and_sync(*fd, 0, "first "), 0);
  ASSERT_TRUE(set_->begin_resilver(1).ok());
  EXPECT_FALSE(set_->healthy(1));
  EXPECT_TRUE(set_->writable(1));
  EXPECT_EQ(set_->status()[1].state, MemberState::resilvering);
  // The open file is reopened on the member (the old descriptor is gone with the member),
  // and the write lands there; the bytes before it are the rebuild's to copy.
  EXPECT_EQ(write_and_sync(*fd, 6, "second"), 0);
  EXPECT_EQ(fake_.contents(member(1, "f")), std::string(6, '\0') + "second");
  EXPECT_EQ(io_->copies(*fd), 1u);  // reads: the healthy member only
  // A write it fails takes it out again; the healthy member carries on.
  fake_.inject(FakeFileIo::Fault::eio_on_write, 1, "/m1/");
  EXPECT_EQ(write_and_sync(*fd, 12, " third"), 0);
  EXPECT_EQ(set_->status()[1].state, MemberState::degraded);
  EXPECT_FALSE(set_->finish_resilver(1).ok());
}

// A core that did nothing while a member went out and came back rebuilt must not keep
// writing through its old descriptor (it names the file that was there before).
TEST_F(MirrorTest, DescriptorsFromBeforeAMemberWentOutAreNeverUsedAgain) {
  ASSERT_TRUE(io_->mkdir(dir_ + "/logical").ok());
  auto fd = io_->open(logical("f"), O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(io_->sync_dir(dir_ + "/logical").ok());
  EXPECT_EQ(write_and_sync(*fd, 0, "before"), 0);
  set_->fail(1, EIO, "test");
  fake_.remove_file(member(1, "f"));  // the disk was replaced
  ASSERT_TRUE(set_->begin_resilver(1).ok());
  ASSERT_TRUE(set_->finish_resilver(1).ok());  // nothing was written meanwhile
  EXPECT_EQ(write_and_sync(*fd, 6, " after"), 0);
  EXPECT_EQ(fake_.contents(member(1, "f")), std::string(6, '\0') + " after");
}

TEST_F(MirrorTest, MembersAreAddedAndRemoved) {
  auto added = set_->add_member(dir_ + "/m2");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(*added, 2u);
  EXPECT_EQ(set_->member_index(dir_ + "/m2"), 2u);
  EXPECT_EQ(set_->status().size(), 3u);
  EXPECT_EQ(set_->status()[2].state, MemberState::stale);  // empty: rebuilt before use
  EXPECT_FALSE(set_->writable(2));
  EXPECT_EQ(set_->add_member(dir_ + "/m2").error().code, EEXIST);

  const uint64_t generation = set_->generation();
  ASSERT_TRUE(set_->remove_member(0).ok());
  EXPECT_FALSE(set_->writable(0));
  EXPECT_FALSE(set_->member_index(roots_[0]));
  EXPECT_EQ(set_->generation(), generation + 1);  // it can never pass for current again
  EXPECT_EQ(set_->status().size(), 2u);
  EXPECT_EQ(set_->status()[0].index, 1u);
  EXPECT_EQ(set_->remove_member(1).error().code, EBUSY);  // the last healthy one
  EXPECT_NE(set_->status_text().find("member 1 healthy"), std::string::npos);
  EXPECT_EQ(set_->status_text().find("member 0 "), std::string::npos);
}

TEST(VolumeMembers, EditsApplyToTheProfilesList) {
  std::string pattern = (std::filesystem::temp_directory_path() / "edits-XXXXXX").string();
  const std::string dir = mkdtemp(pattern.data());
  const std::string edits = dir + "/volume.members";
  EXPECT_EQ(apply_member_edits({"/a", "/b"}, edits), (std::vector<std::string>{"/a", "/b"}));
  ASSERT_TRUE(record_member_edit(edits, "add", "/c").ok());
  ASSERT_TRUE(record_member_edit(edits, "remove", "/a").ok());
  ASSERT_TRUE(record_member_edit(edits, "add", "/b").ok());  // a member already: no change
  EXPECT_EQ(apply_member_edits({"/a", "/b"}, edits), (std::vector<std::string>{"/b", "/c"}));
  EXPECT_EQ(read_text(edits), "add /c\nremove /a\nadd /b\n");
  std::filesystem::remove_all(dir);
}

TEST(VolumeMeta, ParsesAndRefuses) {
  auto meta = parse_volume_meta(
      "postcore-volume 1\nset 0123456789abcdef\nmember 1\n"
      "generation 7\n");
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  EXPECT_EQ(meta->set_id, "0123456789abcdef");
  EXPECT_EQ(meta->member, 1u);
  EXPECT_EQ(meta->generation, 7u);
  EXPECT_EQ(format_volume_meta(*meta),
            "postcore-volume 1\nset 0123456789abcdef\nmember 1\ngeneration 7\n");
  const std::pair<const char*, const char*> bad[] = {
      {"", "volume.meta:1: empty"},
      {"hello\n", "volume.meta:1: not a postcore volume meta"},
      {"postcore-volume 1\nset xyz\n", "volume.meta:2: set id must be 16 hex digits"},
      {"postcore-volume 1\nset 0123456789abcdef\nmember 1\ngeneration 0\n",
       "volume.meta:4: generation must be a positive number"},
      {"postcore-volume 1\nsize 3\n", "volume.meta:2: unknown key \"size\""},
      {"postcore-volume 1\nset 0123456789abcdef\n",
       "volume.meta: set, member and generation required"},
  };
  for (const auto& [text, message] : bad) {
    auto r = parse_volume_meta(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message, message);
  }
}

}  // namespace
}  // namespace postcore::volume
