// KernelTransport: TCP over kernel sockets driven by the core's io_uring. One per
// reactor. Each listener is a SO_REUSEPORT socket of this core with a multishot accept;
// each connection has a multishot recv fed from a provided-buffer ring shared by the
// core; output queued during an iteration leaves in one send at the iteration's end.
#pragma once

#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/engine/reactor.h"
#include "dataplane/net/buffer_ring.h"
#include "dataplane/net/transport.h"

namespace postcore::net {

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 address
  uint16_t port = 0;
};

class KernelConnection;
using ListenerId = uint64_t;

class KernelTransport {
 public:
  explicit KernelTransport(engine::Reactor& reactor);
  ~KernelTransport();

  Result<void> init();  // buffer ring; call on the reactor thread after Reactor::init
  // Binds and starts accepting; connections go to `factory`, which must outlive this. The
  // address need not be up yet (IP_FREEBIND): IP aliases come and go.
  Result<ListenerId> listen(const ListenAddress& address, ServiceHandlerFactory& factory);
  // Closes one listener; its open connections carry on.
  void stop_listener(ListenerId id);
  void stop_listening();  // closes every listener; open connections carry on
  size_t connection_count() const { return connections_; }

 private:
  friend class KernelConnection;
  class Listener;

  void flush_dirty();
  void mark_dirty(KernelConnection* c);
  void connection_closed() { --connections_; }
  void adopt(int fd, ServiceHandlerFactory& factory);

  engine::Reactor& reactor_;
  BufferRing buffers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Stopped listeners wait here for their accept's last completion.
  std::vector<std::unique_ptr<Listener>> retired_;
  ListenerId next_id_ = 1;
  std::vector<KernelConnection*> dirty_;
  size_t connections_ = 0;
};

}  // namespace postcore::net
