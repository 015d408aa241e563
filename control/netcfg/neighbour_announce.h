// Telling the neighbours of an interface who holds an address, and asking whether anyone
// else does. Used when an IP alias is taken over from an old server: without the
// announcement, hosts on the segment keep sending to the old server's MAC address until
// their neighbour cache entries expire (minutes).
//
// IPv4: gratuitous ARP (RFC 5227 "ARP announcement": request, sender = target = the
// address) and an ARP probe (sender 0.0.0.0) for the check. IPv6: unsolicited neighbour
// advertisements to all-nodes (RFC 4861 7.2.6) and a neighbour solicitation from the
// unspecified address (as duplicate address detection sends) for the check.
//
// Needs CAP_NET_RAW (packet and raw ICMPv6 sockets): only the control plane calls it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"
#include "control/directory/ip_network.h"

namespace postcore::netcfg {

// Sends `count` announcements of `address` on `interface`, `interval` apart (the first at
// once). Errors: ENODEV no such interface, EPERM without CAP_NET_RAW, ENETDOWN the
// interface is down, EINVAL an interface without a link-layer address (loopback).
Result<void> announce_address(const std::string& interface, const directory::IpAddress& address,
                              int count = 3,
                              std::chrono::milliseconds interval = std::chrono::milliseconds(100));

// Asks on `interface` whether another host answers for `address`, waiting at most `wait`
// (probes are repeated within it). Returns the link-layer address of the host that
// answered ("52:54:00:12:34:56"), or nullopt when none did. Errors as above.
Result<std::optional<std::string>> probe_address(
    const std::string& interface, const directory::IpAddress& address,
    std::chrono::milliseconds wait = std::chrono::milliseconds(1000));

}  // namespace postcore::netcfg
