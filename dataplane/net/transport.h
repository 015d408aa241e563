// The transport boundary: protocols see bytes in, bytes out and close, nothing more.
// The kernel (io_uring) transport implements it today; DPDK and TLS slot in behind the
// same two interfaces without protocol code changing.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace postcore::net {

// The transport side of one connection, as a protocol handler sees it.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues bytes; the transport sends everything queued in one iteration together.
  virtual void send(std::string_view bytes) = 0;
  // Sends what is queued, then closes. No more on_data after this.
  virtual void close() = 0;
  // Flow control: while paused no on_data is delivered (input stays in the kernel).
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual const std::string& peer_address() const = 0;  // IP as text
  virtual const std::string& local_address() const = 0;
};

// The protocol side of one connection, created by a ServiceHandlerFactory per accept.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void on_open() = 0;
  virtual void on_data(std::string_view bytes) = 0;
  // The peer closed, or the connection failed, or close() completed. The transport
  // destroys the handler right after this returns.
  virtual void on_closed() = 0;
};

class ServiceHandlerFactory {
 public:
  virtual ~ServiceHandlerFactory() = default;
  // Never null: a service that refuses a connection returns a handler that says why
  // in the protocol's own words and closes.
  virtual std::unique_ptr<ConnectionHandler> make_handler(Connection& connection) = 0;
};

}  // namespace postcore::net
