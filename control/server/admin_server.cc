#include "control/server/admin_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace postcore::control {

struct AdminServer::Client {
  int fd = -1;
  Peer peer;
  api::FrameReader reader;
  std::string out;
  bool closing = false;  // send what is queued, then close
  std::chrono::steady_clock::time_point last_active;

  explicit Client(size_t max_frame) : reader(max_frame) {}
  ~Client() {
    if (fd >= 0) ::close(fd);
  }
};

std::string error_code_name(int code) {
  switch (code) {
    case ENOENT:
      return "not_found";
    case EEXIST:
      return "exists";
    case EINVAL:
    case EPROTO:
    case EMSGSIZE:
      return "invalid";
    case ELOOP:
    case EBUSY:
      return "conflict";
    case EACCES:
    case EPERM:
      return "denied";
    case EAGAIN:
      return "unavailable";
    default:
      return "internal";
  }
}

nlohmann::json error_reply(const Error& e) {
  return {{"ok", false}, {"error", {{"code", error_code_name(e.code)}, {"message", e.message}}}};
}

AdminServer::AdminServer(AdminServerOptions options, Dispatch dispatch)
    : options_(std::move(options)), dispatch_(std::move(dispatch)) {}

AdminServer::~AdminServer() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(options_.socket_path.c_str());
  }
}

Result<void> AdminServer::listen() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options_.socket_path.size() >= sizeof(addr.sun_path))
    return make_error(ENAMETOOLONG, "socket path too long: " + options_.socket_path);
  std::memcpy(addr.sun_path, options_.socket_path.c_str(), options_.socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(errno, std::string("socket: ") + std::strerror(errno));
  // Only one control plane runs per data directory (the supervisor's lock), so a socket
  // file left here is stale.
  ::unlink(options_.socket_path.c_str());
  // Created with no access at all, then opened up to exactly root + admin group.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc < 0 || ::listen(fd, 64) < 0) {
    int err = errno;
    ::close(fd);
    return make_error(err, options_.socket_path + ": " + std::strerror(err));
  }
  if (options_.admin_group && ::chown(options_.socket_path.c_str(), 0, *options_.admin_group) < 0)
    log::warning("control", "{}: cannot give the socket to the admin group: {}",
                 options_.socket_path, std::strerror(errno));
  ::chmod(options_.socket_path.c_str(), 0660);
  listen_fd_ = fd;
  return {};
}

void AdminServer::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    auto c = std::make_unique<Client>(options_.max_frame_bytes);
    c->fd = fd;
    c->last_active = std::chrono::steady_clock::now();
    auto peer = peer_of(fd);
    if (!peer || !peer_allowed(*peer, options_.admin_group)) {
      log::warning("control", "admin API: refused uid {} (pid {}): not root or in the admin group",
                   peer ? static_cast<long>(peer->uid) : -1L, peer ? peer->pid : 0);
      c->out = api::encode_frame(error_reply(make_error(
          EACCES, "permission denied: the admin API is for root and the postcore group")));
      c->closing = true;
    } else if (clients_.size() >= options_.max_clients) {
      c->out = api::encode_frame(error_reply(make_error(EAGAIN, "too many admin connections")));
      c->closing = true;
    } else {
      c->peer = *peer;
    }
    clients_.push_back(std::move(c));
  }
}

void AdminServer::handle_frame(Client& c, const nlohmann::json& request) {
  auto cmd = request.find("cmd");
  auto args = request.find("args");
  if (cmd == request.end() || !cmd->is_string()) {
    c.out += api::encode_frame(error_reply(make_error(EINVAL, "request without a \"cmd\" string")));
    return;
  }
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() != "cmd" && it.key() != "args") {
      c.out += api::encode_frame(
          error_reply(make_error(EINVAL, "unknown request field \"" + it.key() + "\"")));
      return;
    }
  }
  static const nlohmann::json kNoArgs = nlohmann::json::object();
  const nlohmann::json& a = args == request.end() ? kNoArgs : *args;
  if (!a.is_object()) {
    c.out += api::encode_frame(error_reply(make_error(EINVAL, "\"args\" must be an object")));
    return;
  }
  Result<nlohmann::json> r = dispatch_(c.peer, cmd->get<std::string>(), a);
  c.out += api::encode_frame(r ? nlohmann::json{{"ok", true}, {"result", std::move(*r)}}
                               : error_reply(r.error()));
}

void AdminServer::serve_client(Client& c) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.last_active = std::chrono::steady_clock::now();
      c.reader.feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) {
      if (c.reader.pending() > 0)
        log::warning("control", "admin API: uid {} closed in the middle of a frame ({} bytes)",
                     c.peer.uid, c.reader.pending());
      c.closing = true;
      c.out.clear();
    }
    break;  // EAGAIN or an error
  }
  while (!c.closing) {
    auto frame = c.reader.next();
    if (!frame) {
      log::warning("control", "admin API: uid {}: {}", c.peer.uid, frame.error().message);
      c.out += api::encode_frame(error_reply(frame.error()));
      c.closing = true;
      break;
    }
    if (!*frame) break;
    handle_frame(c, **frame);
  }
}

void AdminServer::serve(const std::atomic<bool>& stop, const std::function<void()>& tick) {
  std::vector<pollfd> fds;
  while (!stop.load(std::memory_order_acquire)) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : clients_)
      fds.push_back({c->fd,
                     static_cast<short>(c->closing ? 0 : POLLIN) |
                         static_cast<short>(c->out.empty() ? 0 : POLLOUT),
                     0});
    ::poll(fds.data(), fds.size(), 200);
    if (fds[0].revents & POLLIN) accept_clients();
    auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& c = *clients_[i];
      short ev = i + 1 < fds.size() ? fds[i + 1].revents : 0;
      if (ev & (POLLIN | POLLHUP | POLLERR)) serve_client(c);
      if (!c.out.empty()) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0)
          c.out.erase(0, static_cast<size_t>(n));
        else if (n < 0 && errno != EAGAIN)
          c.closing = true, c.out.clear();
      }
      if (now - c.last_active > options_.idle_timeout) c.closing = true, c.out.clear();
    }
    std::erase_if(clients_, [](const auto& c) { return c->closing && c->out.empty(); });
    tick();
  }
}

}  // namespace postcore::control
