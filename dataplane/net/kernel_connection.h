// KernelConnection: one accepted TCP socket. It owns its handler and deletes itself
// once closed and every io_uring operation that points at it has completed.
#pragma once

#include <memory>
#include <string>

#include "dataplane/engine/completion.h"
#include "dataplane/net/transport.h"

namespace postcore::net {

class KernelTransport;
class BufferRing;

class KernelConnection final : public Connection {
 public:
  KernelConnection(KernelTransport& transport, BufferRing& buffers, int fd);

  void start(std::unique_ptr<ConnectionHandler> handler);

  void send(std::string_view bytes) override;
  void close() override;
  void pause_reading() override;
  void resume_reading() override;
  const std::string& peer_address() const override { return peer_; }
  const std::string& local_address() const override { return local_; }

  void flush();  // called by the transport at the end of an iteration

 private:
  struct RecvOp final : engine::Completion {
    KernelConnection* self;
    void complete(int res, uint32_t flags) override { self->on_recv(res, flags); }
  };
  struct SendOp final : engine::Completion {
    KernelConnection* self;
    void complete(int res, uint32_t flags) override { self->on_sent(res, flags); }
  };

  ~KernelConnection() override;
  void arm_recv();
  void on_recv(int res, uint32_t flags);
  void on_sent(int res, uint32_t flags);
  void deliver(std::string_view bytes);
  void shut_down();  // stop everything; free once no operation is in flight
  void maybe_free();

  KernelTransport& transport_;
  BufferRing& buffers_;
  int fd_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::string peer_, local_;
  RecvOp recv_op_;
  SendOp send_op_;
  std::string out_;      // queued during this iteration
  std::string sending_;  // owned by the send in flight
  size_t sent_ = 0;
  std::string held_;  // received while paused
  bool recv_armed_ = false;
  bool send_in_flight_ = false;
  bool dirty_ = false;
  bool paused_ = false;
  bool closing_ = false;  // close() asked: drain output, then shut down
  bool dead_ = false;     // shut down: no more callbacks into the handler
  bool delivering_ = false;
};

}  // namespace postcore::net
