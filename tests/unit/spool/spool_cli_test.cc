// SpoolReader and `postcore spool` on a real directory, written by a real SpoolShard
// through PosixFileIo - including while that shard is still writing.
#include "queue/spool/spool_cli.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "queue/spool/queue_id.h"
#include "queue/spool/spool_reader.h"
#include "queue/spool/spool_shard.h"
#include "queue/volume/posix_file_io.h"
#include "spool_test_support.h"

namespace postcore::spool {
namespace {

using testing::make_body;
using testing::make_envelope;

struct CommandResult {
  int status;
  std::string out;
  std::string err;
};

CommandResult run(std::vector<std::string> args) {
  args.insert(args.begin(), "spool");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  int status = spool_command(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

class SpoolCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/spool-cli-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    data_ = pattern;
  }
  void TearDown() override {
    shards_.clear();
    std::filesystem::remove_all(data_);
  }

  SpoolShard& shard(uint16_t n) {
    auto& s = shards_[n];
    if (!s) {
      ShardOptions o;
      o.dir = shard_dir(data_, n);
      o.shard = n;
      o.segment_bytes = 32 << 10;
      o.chunk_bytes = 8 << 10;
      o.write_buffer_bytes = 16 << 10;
      s = std::make_unique<SpoolShard>(io_, o);
      EXPECT_TRUE(s->open().ok());
    }
    return *s;
  }

  void settle(SpoolShard& s) {
    for (int i = 0; i < 1000 && !(s.idle() && !io_.has_pending()); i++) {
      s.flush();
      io_.run_pending();
    }
  }

  std::string put(uint16_t n, const std::string& from, std::vector<std::string> to,
                  const std::string& body) {
    std::optional<Result<void>> result;
    std::string id = testing::store(shard(n), make_envelope(from, std::move(to)), body, &result);
    settle(shard(n));
    EXPECT_TRUE(result && result->ok());
    return id;
  }

  nlohmann::json json_of(const CommandResult& r) {
    EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  std::string data_;
  volume::PosixFileIo io_;
  std::map<uint16_t, std::unique_ptr<SpoolShard>> shards_;
};

TEST_F(SpoolCli, ListShowAndVerify) {
  const std::string first = put(0, "alice@example.org", {"bob@example.net", "carol@example.net"},
                                "Subject: hi\r\n\r\nhello\r\n");
  const std::string second = put(1, "", {"postmaster@example.net"}, make_body(20000, 4));
  for (int i = 0; i < 20; i++) put(0, "bulk@example.org", {"x@example.net"}, make_body(3000, i));
  std::optional<Result<void>> done;
  shard(0).mark_done(first, 1, [&](Result<void> r) { done = std::move(r); });
  settle(shard(0));
  ASSERT_TRUE(done && done->ok());

  auto list = run({"list", "--data-dir", data_, "--json"});
  ASSERT_EQ(list.status, 0) << list.err;
  auto j = json_of(list);
  EXPECT_EQ(j["count"], 22);
  ASSERT_EQ(j["messages"].size(), 22u);
  const auto& m0 = j["messages"][0];
  EXPECT_EQ(m0["queue_id"], first);
  EXPECT_EQ(m0["shard"], 0);
  EXPECT_EQ(m0["mail_from"], "alice@example.org");
  EXPECT_EQ(m0["size"], 22);
  EXPECT_EQ(m0["recipients"][0]["address"], "bob@example.net");
  EXPECT_EQ(m0["recipients"][0]["done"], false);
  EXPECT_EQ(m0["recipients"][1]["done"], true);
  EXPECT_EQ(j["messages"][21]["queue_id"], second);
  EXPECT_EQ(j["messages"][21]["mail_from"], "");

  auto text = run({"list", "--data-dir=" + data_});
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find(first), std::string::npos);
  EXPECT_NE(text.out.find("carol@example.net (done)"), std::string::npos);
  EXPECT_NE(text.out.find("-- 22 messages"), std::string::npos);

  auto show = run({"show", first, "--json", "--data-dir", data_});
  ASSERT_EQ(show.status, 0) << show.err;
  auto s = json_of(show);
  EXPECT_EQ(s["content"], "Subject: hi\r\n\r\nhello\r\n");
  EXPECT_EQ(s["helo"], "client.example");
  EXPECT_EQ(s["body"], "8BITMIME");
  auto binary = json_of(run({"show", second, "--json", "--data-dir", data_}));
  EXPECT_TRUE(binary.contains("content_base64"));
  auto raw = run({"show", first, "--raw", "--data-dir", data_});
  ASSERT_EQ(raw.status, 0) << raw.err;
  EXPECT_EQ(raw.out, "Subject: hi\r\n\r\nhello\r\n");
  EXPECT_EQ(m0["smtputf8"], false);
  auto with_content = json_of(run({"list", "--json", "--content", "--data-dir", data_}));
  EXPECT_EQ(with_content["messages"][0]["content"], "Subject: hi\r\n\r\nhello\r\n");
  EXPECT_TRUE(with_content["messages"][21].contains("content_base64"));

  auto show_text = run({"show", first, "--data-dir", data_});
  ASSERT_EQ(show_text.status, 0);
  EXPECT_NE(show_text.out.find("sender:    <alice@example.org>"), std::string::npos);
  EXPECT_NE(show_text.out.find("hello\r\n"), std::string::npos);

  auto verify = run({"verify", "--data-dir", data_, "--json"});
  ASSERT_EQ(verify.status, 0) << verify.out << verify.err;
  auto v = json_of(verify);
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["shards"], 2);
  EXPECT_EQ(v["messages"], 22);
  EXPECT_GE(v["segments"].get<int>(), 3);
  EXPECT_TRUE(v["problems"].empty());
}

TEST_F(SpoolCli, VerifyReportsCorruptionWithFileAndOffset) {
  std::vector<std::string> ids;
  for (int i = 0; i < 30; i++)
    ids.push_back(put(0, "a@example.org", {"b@example.net"}, make_body(2000, i)));
  shards_.clear();  // stopped appliance: the last segment gets sealed at next start only

  const std::string path = shard_dir(data_, 0) + "/" + segment_file_name(1);
  const std::string needle = make_body(2000, 3).substr(500, 32);
  std::string bytes;
  {
    auto fd = io_.open(path, O_RDONLY, 0);
    ASSERT_TRUE(fd.ok());
    bytes.resize(*io_.size(*fd));
    ASSERT_TRUE(io_.read(*fd, 0, bytes.data(), bytes.size()).ok());
    (void)io_.close(*fd);
  }
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    char flipped = static_cast<char>(bytes[at] ^ 0x40);
    ASSERT_EQ(::pwrite(fd, &flipped, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
  }

  auto verify = run({"verify", "--data-dir", data_, "--json"});
  EXPECT_EQ(verify.status, 1);
  auto v = json_of(verify);
  EXPECT_EQ(v["ok"], false);
  ASSERT_FALSE(v["problems"].empty());
  EXPECT_EQ(v["problems"][0]["file"], path);
  EXPECT_LE(v["problems"][0]["offset"].get<uint64_t>(), at);
  EXPECT_GT(v["problems"][0]["offset"].get<uint64_t>() + v["problems"][0]["length"].get<uint64_t>(),
            at);

  auto text = run({"verify", "--data-dir", data_});
  EXPECT_EQ(text.status, 1);
  EXPECT_NE(text.out.find(path + ":"), std::string::npos);

  auto show = run({"show", ids[3], "--data-dir", data_});
  EXPECT_EQ(show.status, 1);
  EXPECT_TRUE(show.out.empty()) << "a damaged message was served";
  EXPECT_EQ(run({"show", ids[4], "--data-dir", data_}).status, 0);
}

TEST_F(SpoolCli, WorksWhileAShardIsWriting) {
  for (int i = 0; i < 5; i++) put(0, "a@example.org", {"b@example.net"}, make_body(1000, i));
  // A large message is streaming: some of its buffers are on disk, no END yet.
  auto h = shard(0).begin(make_envelope("big@example.org", {"b@example.net"}));
  ASSERT_TRUE(h.ok());
  shard(0).append(*h, make_body(100000, 9));
  io_.run_pending();

  auto list = run({"list", "--data-dir", data_, "--json"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(json_of(list)["count"], 5);
  auto verify = run({"verify", "--data-dir", data_, "--json"});
  EXPECT_EQ(verify.status, 0) << verify.out;
  EXPECT_EQ(json_of(verify)["ok"], true);

  std::optional<Result<void>> result;
  shard(0).commit(*h, [&](Result<void> r) { result = std::move(r); });
  settle(shard(0));
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ(json_of(run({"list", "--data-dir", data_, "--json"}))["count"], 6);
}

TEST_F(SpoolCli, UsageAndNotFound) {
  struct Case {
    std::vector<std::string> args;
    int status;
  };
  const std::vector<Case> cases = {
      {{}, 2},
      {{"frobnicate"}, 2},
      {{"list", "extra"}, 2},
      {{"show"}, 2},
      {{"show", "a", "b"}, 2},
      {{"list", "--data-dir"}, 2},
      {{"list", "--bogus"}, 2},
      {{"list", "--raw"}, 2},
      {{"list", "--content"}, 2},
      {{"show", "00000000000100000001", "--raw", "--json"}, 2},
      {{"--help"}, 0},
      {{"list", "--data-dir", "/nonexistent/postcore"}, 1},
      {{"show", "00000000000100000001", "--data-dir", "/nonexistent/postcore"}, 1},
      {{"show", "not-a-queue-id", "--data-dir", "/nonexistent/postcore"}, 1},
  };
  for (const auto& c : cases) {
    auto r = run(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.status, c.status) << joined;
    if (c.status != 0) {
      EXPECT_FALSE(r.err.empty()) << joined;
    }
    if (c.status == 2) {
      EXPECT_NE(r.err.find("usage:"), std::string::npos) << joined;
    }
  }
  put(0, "a@example.org", {"b@example.net"}, "x");
  auto missing = run({"show", "00000000FFFF00000001", "--data-dir", data_});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("no message"), std::string::npos);
}

}  // namespace
}  // namespace postcore::spool
