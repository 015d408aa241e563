// Interface addresses through rtnetlink (libmnl): list, add, remove, and which interfaces
// carry a default route. The control plane's only way of changing the system's network
// configuration: no `ip` or `ifconfig` is ever run.
//
// Addresses postcore adds are marked with IFA_PROTO = kAddressProto, so that it can tell
// them from every address it did not create (and never touches those). The mark is kept
// by the kernel for the address's lifetime and shows in `ip -d address` as "proto 0x70".
//
// Adding and removing needs CAP_NET_ADMIN; listing does not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/directory/ip_network.h"

struct mnl_socket;

namespace postcore::netcfg {

inline constexpr uint8_t kAddressProto = 0x70;

// An address as the system has it.
struct SystemAddress {
  int ifindex = 0;
  std::string interface;
  directory::IpAddress address;
  int prefix = 0;
  std::string label;        // IPv4 only: "eth0" or "eth0:web"
  uint8_t proto = 0;        // IFA_PROTO; kAddressProto when postcore added it
  bool tentative = false;   // IPv6 duplicate address detection still running
  bool dad_failed = false;  // IPv6: another host on the link holds it
};

struct Interface {
  int ifindex = 0;
  std::string name;
  bool up = false;
};

class Rtnetlink {
 public:
  static Result<std::unique_ptr<Rtnetlink>> open();
  ~Rtnetlink();
  Rtnetlink(const Rtnetlink&) = delete;
  Rtnetlink& operator=(const Rtnetlink&) = delete;

  Result<std::vector<Interface>> interfaces();
  Result<std::vector<SystemAddress>> addresses();
  // ifindexes of the interfaces that default routes (IPv4 or IPv6, main table) leave by.
  Result<std::vector<int>> default_route_interfaces();

  // Adds `address`/`prefix` to interface `ifindex`, marked as postcore's. EEXIST when the
  // interface has it already. `label` (IPv4 only; empty for none) must be the interface
  // name or start with it and a colon.
  Result<void> add_address(int ifindex, const directory::IpAddress& address, int prefix,
                           const std::string& label);
  Result<void> remove_address(int ifindex, const directory::IpAddress& address, int prefix);

 private:
  explicit Rtnetlink(mnl_socket* socket);
  // Sends one request and reads the replies until its ACK (or the end of a dump), handing
  // each data message to `on_message`.
  template <typename OnMessage>
  Result<void> exchange(void* request, OnMessage&& on_message);

  mnl_socket* socket_;
  uint32_t port_id_;
  uint32_t sequence_;
};

}  // namespace postcore::netcfg
