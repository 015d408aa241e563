#include "dataplane/net/kernel_transport.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "dataplane/net/kernel_connection.h"

namespace postcore::net {

class KernelTransport::Listener final : public engine::Completion {
 public:
  Listener(KernelTransport& t, int fd, ServiceHandlerFactory& f, ListenerId id)
      : t_(t), fd_(fd), factory_(f), id_(id) {}
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  void arm() {
    io_uring_sqe* s = t_.reactor_.sqe_for(this);
    io_uring_prep_multishot_accept(s, fd_, nullptr, nullptr, SOCK_CLOEXEC);
    armed_ = true;
  }
  void stop() {
    stopped_ = true;
    if (armed_) {
      io_uring_sqe* s = t_.reactor_.sqe();
      io_uring_prep_cancel(s, this, 0);
      io_uring_sqe_set_data(s, nullptr);
    }
    // The ring holds its own reference while the accept is in flight; closing now stops
    // the kernel from completing handshakes nobody will accept.
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool idle() const { return !armed_; }
  ListenerId id() const { return id_; }
  void complete(int res, uint32_t flags) override {
    if (!(flags & IORING_CQE_F_MORE)) armed_ = false;
    if (res >= 0) {
      if (stopped_)
        ::close(res);
      else
        t_.adopt(res, factory_);
    } else if (res != -ECANCELED) {
      log::warning("net", "accept: {}", std::strerror(-res));
    }
    if (!armed_ && !stopped_) arm();
  }

 private:
  KernelTransport& t_;
  int fd_;
  ServiceHandlerFactory& factory_;
  ListenerId id_;
  bool armed_ = false;
  bool stopped_ = false;
};

KernelTransport::KernelTransport(engine::Reactor& reactor) : reactor_(reactor) {}

KernelTransport::~KernelTransport() = default;

Result<void> KernelTransport::init() {
  // 1024 buffers of 16 KiB per core: enough for a burst from every connection of a busy
  // core; a connection that finds them all in use simply waits (ENOBUFS re-arm).
  if (auto r = buffers_.init(reactor_.ring(), reactor_.next_buffer_group(), 1024, 16384); !r)
    return r;
  reactor_.add_iteration_hook([this] { flush_dirty(); });
  return {};
}

Result<ListenerId> KernelTransport::listen(const ListenAddress& address,
                                           ServiceHandlerFactory& factory) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(address.port);
    len = sizeof(*in4);
  } else if (inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) == 1) {
    family = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    len = sizeof(*in6);
  } else {
    return make_error(EINVAL, "not a numeric IP address: " + address.host);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errno, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  // A listener may be configured before its address is up (IP aliases come and go).
  setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 || ::listen(fd, 4096) < 0) {
    int err = errno;
    ::close(fd);
    return make_error(err, "listen on " + address.host + " port " + std::to_string(address.port) +
                               ": " + std::strerror(err));
  }
  listeners_.push_back(std::make_unique<Listener>(*this, fd, factory, next_id_++));
  listeners_.back()->arm();
  return listeners_.back()->id();
}

void KernelTransport::stop_listener(ListenerId id) {
  std::erase_if(retired_, [](const auto& l) { return l->idle(); });
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [id](const auto& l) { return l->id() == id; });
  if (it == listeners_.end()) return;
  (*it)->stop();
  retired_.push_back(std::move(*it));
  listeners_.erase(it);
}

void KernelTransport::stop_listening() {
  for (auto& l : listeners_) l->stop();
}

void KernelTransport::adopt(int fd, ServiceHandlerFactory& factory) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto* c = new KernelConnection(*this, buffers_, fd);
  ++connections_;
  c->start(factory.make_handler(*c));
}

void KernelTransport::mark_dirty(KernelConnection* c) {
  dirty_.push_back(c);
}

void KernelTransport::flush_dirty() {
  // flush() may mark a connection dirty again (or free it): work on a snapshot.
  std::vector<KernelConnection*> batch;
  batch.swap(dirty_);
  for (KernelConnection* c : batch) c->flush();
}

}  // namespace postcore::net
