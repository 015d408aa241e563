#include "control/api/admin_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postcore::api {

int errno_of_code(const std::string& code) {
  if (code == "not_found") return ENOENT;
  if (code == "exists") return EEXIST;
  if (code == "invalid") return EINVAL;
  if (code == "conflict") return ELOOP;
  if (code == "denied") return EACCES;
  if (code == "unavailable") return EAGAIN;
  return EIO;
}

AdminClient::~AdminClient() {
  if (fd_ >= 0) ::close(fd_);
}

AdminClient::AdminClient(AdminClient&& other) noexcept
    : fd_(other.fd_), timeout_(other.timeout_), reader_(std::move(other.reader_)) {
  other.fd_ = -1;
}

Result<AdminClient> AdminClient::connect(const std::string& socket_path,
                                         std::chrono::seconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path))
    return make_error(ENAMETOOLONG, "socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errno, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    int err = errno;
    ::close(fd);
    return make_error(
        err, "cannot reach the control plane at " + socket_path + ": " + std::strerror(err));
  }
  return AdminClient(fd, timeout);
}

Result<nlohmann::json> AdminClient::call(const std::string& command, const nlohmann::json& args) {
  std::string frame = api::encode_frame({{"cmd", command}, {"args", args}});
  for (size_t sent = 0; sent < frame.size();) {
    ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ECONNRESET,
                        std::string("control plane connection lost: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  char buf[65536];
  for (;;) {
    auto next = reader_.next();
    if (!next)
      return make_error(EPROTO, "bad reply from the control plane: " + next.error().message);
    if (*next) {
      const nlohmann::json& reply = **next;
      if (reply.value("ok", false))
        return reply.contains("result") ? reply["result"] : nlohmann::json();
      const auto& e = reply.contains("error") ? reply["error"] : nlohmann::json::object();
      return make_error(errno_of_code(e.value("code", "internal")),
                        e.value("message", std::string("the control plane reported an error")));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(ETIMEDOUT, "the control plane did not answer in time");
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return make_error(ECONNRESET, "the control plane closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ECONNRESET,
                        std::string("control plane connection lost: ") + std::strerror(errno));
    }
    reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace postcore::api
