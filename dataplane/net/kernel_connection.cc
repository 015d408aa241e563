#include "dataplane/net/kernel_connection.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "dataplane/net/buffer_ring.h"
#include "dataplane/net/kernel_transport.h"

namespace postcore::net {
namespace {

std::string address_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof(buf));
  } else if (ss.ss_family == AF_INET6) {
    auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6))
      inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof(buf));
    else
      inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
  }
  return buf;
}

}  // namespace

KernelConnection::KernelConnection(KernelTransport& transport, BufferRing& buffers, int fd)
    : transport_(transport), buffers_(buffers), fd_(fd) {
  recv_op_.self = this;
  send_op_.self = this;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) peer_ = address_text(ss);
  len = sizeof(ss);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) local_ = address_text(ss);
}

KernelConnection::~KernelConnection() {
  ::close(fd_);
}

void KernelConnection::start(std::unique_ptr<ConnectionHandler> handler) {
  handler_ = std::move(handler);
  handler_->on_open();
  if (!dead_ && !closing_) arm_recv();
  maybe_free();
}

void KernelConnection::arm_recv() {
  if (recv_armed_ || paused_ || dead_ || closing_) return;
  io_uring_sqe* s = transport_.reactor_.sqe_for(&recv_op_);
  io_uring_prep_recv_multishot(s, fd_, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = buffers_.group_id();
  recv_armed_ = true;
}

void KernelConnection::on_recv(int res, uint32_t flags) {
  if (!(flags & IORING_CQE_F_MORE)) recv_armed_ = false;
  if (res > 0) {
    uint16_t bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    std::string_view bytes = buffers_.view(bid, static_cast<size_t>(res));
    if (!dead_ && !closing_) {
      if (paused_)
        held_.append(bytes);
      else
        deliver(bytes);
    }
    buffers_.recycle(bid);
    if (!recv_armed_) arm_recv();
  } else if (res == -ENOBUFS) {
    // Every buffer of the core is in use this instant; they return within the iteration.
    arm_recv();
  } else if (res == -ECANCELED) {
    // Our own cancel (pause or shut down); if reading resumed meanwhile, read again.
    arm_recv();
  } else {
    // 0: the peer closed. Anything else: the connection failed.
    shut_down();
  }
  maybe_free();
}

void KernelConnection::deliver(std::string_view bytes) {
  delivering_ = true;
  handler_->on_data(bytes);
  delivering_ = false;
}

void KernelConnection::send(std::string_view bytes) {
  if (dead_ || bytes.empty()) return;
  out_.append(bytes);
  if (!dirty_) {
    dirty_ = true;
    transport_.mark_dirty(this);
  }
}

void KernelConnection::flush() {
  dirty_ = false;
  if (dead_ || send_in_flight_) {
    maybe_free();
    return;
  }
  if (out_.empty()) {
    if (closing_) shut_down();
    maybe_free();
    return;
  }
  sending_.swap(out_);
  out_.clear();
  sent_ = 0;
  io_uring_sqe* s = transport_.reactor_.sqe_for(&send_op_);
  io_uring_prep_send(s, fd_, sending_.data(), sending_.size(), MSG_NOSIGNAL);
  send_in_flight_ = true;
}

void KernelConnection::on_sent(int res, uint32_t) {
  send_in_flight_ = false;
  if (res < 0) {
    shut_down();
  } else if (!dead_) {
    sent_ += static_cast<size_t>(res);
    if (sent_ < sending_.size()) {
      io_uring_sqe* s = transport_.reactor_.sqe_for(&send_op_);
      io_uring_prep_send(s, fd_, sending_.data() + sent_, sending_.size() - sent_, MSG_NOSIGNAL);
      send_in_flight_ = true;
    } else if (!out_.empty() || closing_) {
      if (!dirty_) {
        dirty_ = true;
        transport_.mark_dirty(this);
      }
    }
  }
  maybe_free();
}

void KernelConnection::close() {
  if (closing_ || dead_) return;
  closing_ = true;
  if (!dirty_) {
    dirty_ = true;
    transport_.mark_dirty(this);
  }
}

void KernelConnection::pause_reading() {
  if (paused_ || dead_) return;
  paused_ = true;
  // Stop the multishot recv so unread input stays in the kernel and TCP pushes back on
  // the client; whatever arrives before the cancel lands is held, not lost.
  if (recv_armed_) {
    io_uring_sqe* s = transport_.reactor_.sqe();
    io_uring_prep_cancel(s, &recv_op_, 0);
    io_uring_sqe_set_data(s, nullptr);
  }
}

void KernelConnection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  if (!held_.empty() && !dead_ && !closing_) {
    std::string held;
    held.swap(held_);
    deliver(held);
  }
  // Delivering may have paused again; arm_recv() checks.
  arm_recv();
}

void KernelConnection::shut_down() {
  if (dead_) return;
  dead_ = true;
  // Half-close first so the peer sees our last reply before the FIN, then cancel reads.
  ::shutdown(fd_, SHUT_RDWR);
  if (recv_armed_) {
    io_uring_sqe* s = transport_.reactor_.sqe();
    io_uring_prep_cancel(s, &recv_op_, 0);
    io_uring_sqe_set_data(s, nullptr);
  }
  if (handler_) handler_->on_closed();
}

void KernelConnection::maybe_free() {
  if (dead_ && !recv_armed_ && !send_in_flight_ && !dirty_ && !delivering_) {
    transport_.connection_closed();
    delete this;
  }
}

}  // namespace postcore::net
