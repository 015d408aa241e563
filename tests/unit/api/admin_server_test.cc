// The admin API server over a real Unix socket: requests and replies, strict framing,
// peers that misbehave, and peers that are not allowed in.
#include "control/server/admin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

namespace postcore::control {
namespace {

class AdminServerTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/admin-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/control.sock";
    AdminServerOptions o;
    o.socket_path = path_;
    o.max_frame_bytes = 4096;
    server_ =
        std::make_unique<AdminServer>(o,
                                      [this](const Peer& peer, const std::string& cmd,
                                             const nlohmann::json& args) -> Result<nlohmann::json> {
                                        ++calls_;
                                        if (cmd == "echo")
                                          return nlohmann::json{{"args", args}, {"uid", peer.uid}};
                                        return make_error(ENOENT, "unknown command " + cmd);
                                      });
    ASSERT_TRUE(server_->listen());
    thread_ = std::thread([this] { server_->serve(stop_, [] {}); });
  }
  void TearDown() override {
    stop_ = true;
    thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  int connect_client() {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    readers_.erase(fd);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  // Reads one reply frame, or returns null at end of stream. One reader per connection:
  // a recv may bring more than one frame.
  nlohmann::json read_reply(int fd) {
    api::FrameReader& reader = readers_[fd];
    char buf[4096];
    for (;;) {
      auto next = reader.next();
      if (!next) return nullptr;
      if (*next) return **next;
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return nullptr;
      reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

  static void send_all(int fd, std::string_view bytes) {
    ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  std::string dir_, path_;
  std::unique_ptr<AdminServer> server_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::thread thread_;
  std::map<int, api::FrameReader> readers_;
};

TEST_F(AdminServerTest, SocketIsPrivate) {
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(AdminServerTest, RequestsGetRepliesInOrder) {
  int fd = connect_client();
  ASSERT_GE(fd, 0);
  send_all(fd, api::encode_frame({{"cmd", "echo"}, {"args", {{"n", 1}}}}) +
                   api::encode_frame({{"cmd", "nope"}}));
  auto r1 = read_reply(fd);
  EXPECT_EQ(r1["ok"], true);
  EXPECT_EQ(r1["result"]["args"]["n"], 1);
  EXPECT_EQ(r1["result"]["uid"], getuid());
  auto r2 = read_reply(fd);
  EXPECT_EQ(r2["ok"], false);
  EXPECT_EQ(r2["error"]["code"], "not_found");
  EXPECT_EQ(r2["error"]["message"], "unknown command nope");
  close(fd);
}

TEST_F(AdminServerTest, MalformedRequestsAreRefusedWithReasons) {
  int fd = connect_client();
  ASSERT_GE(fd, 0);
  send_all(fd, api::encode_frame({{"args", {}}}));
  EXPECT_EQ(read_reply(fd)["error"]["message"], "request without a \"cmd\" string");
  send_all(fd, api::encode_frame({{"cmd", "echo"}, {"extra", 1}}));
  EXPECT_EQ(read_reply(fd)["error"]["message"], "unknown request field \"extra\"");
  send_all(fd, api::encode_frame({{"cmd", "echo"}, {"args", 3}}));
  EXPECT_EQ(read_reply(fd)["error"]["message"], "\"args\" must be an object");
  close(fd);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(AdminServerTest, OversizedFrameIsRefusedAndServerKeepsRunning) {
  int fd = connect_client();
  ASSERT_GE(fd, 0);
  send_all(fd, std::string("\x00\x10\x00\x00", 4));  // announces 1 MiB, limit is 4 KiB
  auto r = read_reply(fd);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["error"]["code"], "invalid");
  EXPECT_TRUE(read_reply(fd).is_null());  // disconnected
  close(fd);
  int again = connect_client();
  send_all(again, api::encode_frame({{"cmd", "echo"}}));
  EXPECT_EQ(read_reply(again)["ok"], true);
  close(again);
}

TEST_F(AdminServerTest, TruncatedFrameThenCloseLeavesServerRunning) {
  int fd = connect_client();
  ASSERT_GE(fd, 0);
  std::string f = api::encode_frame({{"cmd", "echo"}});
  send_all(fd, std::string_view(f).substr(0, f.size() - 3));
  close(fd);
  int again = connect_client();
  send_all(again, f);
  EXPECT_EQ(read_reply(again)["ok"], true);
  close(again);
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(AdminServerTest, NonMemberIsRefusedByPeerCredentials) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  // Open the file up so only the peer-credential check stands in the way.
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    int fd = connect_client();
    if (fd < 0) _exit(4);
    send_all(fd, api::encode_frame({{"cmd", "echo"}}));
    auto r = read_reply(fd);
    _exit(r.is_object() && r["error"]["code"] == "denied" ? 0 : 5);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(calls_.load(), 0);
}

}  // namespace
}  // namespace postcore::control
