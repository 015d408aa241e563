// The kernel transport over real loopback sockets: a reactor thread runs an echo
// service; plain blocking sockets drive it from the test thread.
#include "dataplane/net/kernel_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "dataplane/engine/reactor.h"

namespace postcore::net {
namespace {

class Echo final : public ConnectionHandler {
 public:
  explicit Echo(Connection& c) : c_(c) {}
  void on_open() override { c_.send("hello\n"); }
  void on_data(std::string_view bytes) override {
    if (bytes.find('Q') != std::string_view::npos) {
      c_.send("bye\n");
      c_.close();
      return;
    }
    c_.send(bytes);
  }
  void on_closed() override {}

 private:
  Connection& c_;
};

class EchoFactory final : public ServiceHandlerFactory {
 public:
  std::unique_ptr<ConnectionHandler> make_handler(Connection& c) override {
    return std::make_unique<Echo>(c);
  }
};

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string read_exactly(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    ssize_t r = recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

class KernelTransportTest : public testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    std::promise<bool> ready;
    auto f = ready.get_future();
    thread_ = std::thread([&] {
      engine::Reactor reactor(engine::ReactorOptions{0, -1, 256});
      reactor_ = &reactor;
      bool ok = reactor.init().ok();
      KernelTransport transport(reactor);
      ok = ok && transport.init().ok() && transport.listen({"127.0.0.1", port_}, factory_).ok();
      reactor.on_stop([&] { transport.stop_listening(); });
      reactor.add_quiescence_check([&] { return transport.connection_count() == 0; });
      ready.set_value(ok);
      if (ok) reactor.run();
      reactor_ = nullptr;
    });
    ASSERT_TRUE(f.get());
  }
  void TearDown() override {
    if (engine::Reactor* r = reactor_.load()) r->stop();
    thread_.join();
  }

  uint16_t port_ = 0;
  EchoFactory factory_;
  std::atomic<engine::Reactor*> reactor_{nullptr};
  std::thread thread_;
};

TEST_F(KernelTransportTest, GreetsEchoesAndCloses) {
  int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_exactly(fd, 6), "hello\n");
  ASSERT_EQ(send(fd, "abc", 3, 0), 3);
  EXPECT_EQ(read_exactly(fd, 3), "abc");
  ASSERT_EQ(send(fd, "Q", 1, 0), 1);
  EXPECT_EQ(read_exactly(fd, 4), "bye\n");
  char c;
  EXPECT_EQ(recv(fd, &c, 1, 0), 0);  // server closed after its last reply
  close(fd);
}

TEST_F(KernelTransportTest, LargeTransferSurvivesBufferRecycling) {
  int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_exactly(fd, 6), "hello\n");
  // 4 MiB: far more than the buffer ring holds at once, so buffers must be recycled.
  std::string payload(4 << 20, 'x');
  for (size_t i = 0; i < payload.size(); i += 4093) payload[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] {
    size_t off = 0;
    while (off < payload.size()) {
      ssize_t n = send(fd, payload.data() + off, std::min<size_t>(65536, payload.size() - off), 0);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  });
  std::string echoed = read_exactly(fd, payload.size());
  writer.join();
  EXPECT_TRUE(echoed == payload);
  close(fd);
}

TEST_F(KernelTransportTest, ManyConnectionsAndAbruptClose) {
  std::vector<int> fds;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_to(port_);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  for (int fd : fds) EXPECT_EQ(read_exactly(fd, 6), "hello\n");
  for (size_t i = 0; i < fds.size(); ++i) {
    if (i % 2) {
      linger l{1, 0};  // RST instead of FIN
      setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(fds[i]);
  }
  // The transport must still serve new clients after every peer vanished.
  int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_exactly(fd, 6), "hello\n");
  close(fd);
}

}  // namespace
}  // namespace postcore::net
