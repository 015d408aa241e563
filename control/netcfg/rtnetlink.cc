#include "control/netcfg/rtnetlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>

namespace postcore::netcfg {
namespace {

using OnMessage = std::function<void(const nlmsghdr*)>;

int run_callback(const nlmsghdr* message, void* data) {
  (*static_cast<OnMessage*>(data))(message);
  return MNL_CB_OK;
}

int family_of(const directory::IpAddress& a) {
  return a.v6 ? AF_INET6 : AF_INET;
}

size_t length_of(const directory::IpAddress& a) {
  return a.v6 ? 16 : 4;
}

// The attributes of one message by type (nullptr when absent); later ones of a type win.
template <int Max>
struct Attributes {
  const nlattr* by_type[Max + 1] = {};

  static int collect(const nlattr* attribute, void* data) {
    auto* attributes = static_cast<Attributes*>(data);
    const int type = mnl_attr_get_type(attribute);
    if (type >= 0 && type <= Max) attributes->by_type[type] = attribute;
    return MNL_CB_OK;
  }
  void parse(const nlmsghdr* message, size_t header_size) {
    mnl_attr_parse(message, header_size, collect, this);
  }
};
using AddressAttributes = Attributes<IFA_MAX>;

// Starts a request in `buffer`: the netlink header, then the message's fixed header
// (ifinfomsg, ifaddrmsg, rtmsg), zeroed, for the caller to fill in.
template <typename Fixed>
Fixed* start_request(char* buffer, uint16_t type, uint16_t flags) {
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = type;
  header->nlmsg_flags = flags;
  return static_cast<Fixed*>(mnl_nlmsg_put_extra_header(header, sizeof(Fixed)));
}
using LinkAttributes = Attributes<IFLA_MAX>;
using RouteAttributes = Attributes<RTA_MAX>;

}  // namespace

Rtnetlink::Rtnetlink(mnl_socket* socket)
    : socket_(socket), port_id_(mnl_socket_get_portid(socket)), sequence_(time(nullptr)) {}

Rtnetlink::~Rtnetlink() {
  mnl_socket_close(socket_);
}

Result<std::unique_ptr<Rtnetlink>> Rtnetlink::open() {
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!socket) return make_error(errno, std::string("rtnetlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(socket);
    return make_error(err, std::string("rtnetlink bind: ") + std::strerror(err));
  }
  return std::unique_ptr<Rtnetlink>(new Rtnetlink(socket));
}

template <typename Handler>
Result<void> Rtnetlink::exchange(void* request, Handler&& handler) {
  auto* header = static_cast<nlmsghdr*>(request);
  header->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_, header, header->nlmsg_len) < 0)
    return make_error(errno, std::string("rtnetlink send: ") + std::strerror(errno));
  OnMessage on_message = std::forward<Handler>(handler);
  // Dumps come in messages of up to 32 KiB (libmnl's later MNL_SOCKET_DUMP_SIZE).
  std::vector<char> buffer(32768);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (n < 0) return make_error(errno, std::string("rtnetlink receive: ") + std::strerror(errno));
    const int r =
        mnl_cb_run(buffer.data(), n, header->nlmsg_seq, port_id_, run_callback, &on_message);
    if (r < 0) return make_error(errno, std::strerror(errno));
    if (r == MNL_CB_STOP) return {};
  }
}

Result<std::vector<Interface>> Rtnetlink::interfaces() {
  char request[MNL_SOCKET_BUFFER_SIZE];
  start_request<ifinfomsg>(request, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP)->ifi_family =
      AF_UNSPEC;
  std::vector<Interface> out;
  auto r = exchange(request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWLINK) return;
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
    LinkAttributes attributes;
    attributes.parse(message, sizeof(*info));
    Interface i;
    i.ifindex = info->ifi_index;
    i.up = (info->ifi_flags & IFF_UP) != 0;
    if (attributes.by_type[IFLA_IFNAME]) i.name = mnl_attr_get_str(attributes.by_type[IFLA_IFNAME]);
    out.push_back(std::move(i));
  });
  if (!r) return make_error(r.error().code, "listing interfaces: " + r.error().message);
  return out;
}

Result<std::vector<SystemAddress>> Rtnetlink::addresses() {
  auto links = interfaces();
  if (!links) return links.error();
  std::map<int, std::string> names;
  for (const auto& l : *links) names[l.ifindex] = l.name;

  char request[MNL_SOCKET_BUFFER_SIZE];
  start_request<ifaddrmsg>(request, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP)->ifa_family =
      AF_UNSPEC;
  std::vector<SystemAddress> out;
  auto r = exchange(request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWADDR) return;
    const auto* info = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
    if (info->ifa_family != AF_INET && info->ifa_family != AF_INET6) return;
    AddressAttributes attributes;
    attributes.parse(message, sizeof(*info));
    // IFA_LOCAL is the interface's own address on point-to-point links, where IFA_ADDRESS
    // is the peer's.
    const nlattr* value = attributes.by_type[IFA_LOCAL] ? attributes.by_type[IFA_LOCAL]
                                                        : attributes.by_type[IFA_ADDRESS];
    if (!value) return;
    SystemAddress a;
    a.ifindex = static_cast<int>(info->ifa_index);
    a.interface = names.count(a.ifindex) ? names[a.ifindex] : std::to_string(a.ifindex);
    a.address.v6 = info->ifa_family == AF_INET6;
    const size_t length = length_of(a.address);
    if (mnl_attr_get_payload_len(value) < length) return;
    std::memcpy(a.address.bytes.data(), mnl_attr_get_payload(value), length);
    a.prefix = info->ifa_prefixlen;
    uint32_t flags = info->ifa_flags;
    if (attributes.by_type[IFA_FLAGS]) flags = mnl_attr_get_u32(attributes.by_type[IFA_FLAGS]);
    a.tentative = (flags & IFA_F_TENTATIVE) != 0;
    a.dad_failed = (flags & IFA_F_DADFAILED) != 0;
    if (attributes.by_type[IFA_LABEL]) a.label = mnl_attr_get_str(attributes.by_type[IFA_LABEL]);
    if (attributes.by_type[IFA_PROTO]) a.proto = mnl_attr_get_u8(attributes.by_type[IFA_PROTO]);
    out.push_back(std::move(a));
  });
  if (!r) return make_error(r.error().code, "listing addresses: " + r.error().message);
  return out;
}

Result<std::vector<int>> Rtnetlink::default_route_interfaces() {
  std::vector<int> out;
  for (const int family : {AF_INET, AF_INET6}) {
    char request[MNL_SOCKET_BUFFER_SIZE];
    start_request<rtmsg>(request, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP)->rtm_family = family;
    auto r = exchange(request, [&](const nlmsghdr* message) {
      if (message->nlmsg_type != RTM_NEWROUTE) return;
      const auto* info = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(message));
      if (info->rtm_dst_len != 0 || info->rtm_table != RT_TABLE_MAIN ||
          info->rtm_type != RTN_UNICAST)
        return;
      RouteAttributes attributes;
      attributes.parse(message, sizeof(*info));
      auto add = [&](int ifindex) {
        if (std::find(out.begin(), out.end(), ifindex) == out.end()) out.push_back(ifindex);
      };
      if (attributes.by_type[RTA_OIF])
        add(static_cast<int>(mnl_attr_get_u32(attributes.by_type[RTA_OIF])));
      // A multipath route has no RTA_OIF: each of its next hops names an interface.
      if (const nlattr* multipath = attributes.by_type[RTA_MULTIPATH]) {
        const auto* hop = static_cast<const rtnexthop*>(mnl_attr_get_payload(multipath));
        for (int left = mnl_attr_get_payload_len(multipath);
             left >= static_cast<int>(sizeof(rtnexthop)) && RTNH_OK(hop, left);
             left -= RTNH_ALIGN(hop->rtnh_len), hop = RTNH_NEXT(hop))
          add(hop->rtnh_ifindex);
      }
    });
    if (!r) return make_error(r.error().code, "listing routes: " + r.error().message);
  }
  return out;
}

Result<void> Rtnetlink::add_address(int ifindex, const directory::IpAddress& address, int prefix,
                                    const std::string& label) {
  char request[MNL_SOCKET_BUFFER_SIZE];
  auto* ifa = start_request<ifaddrmsg>(request, RTM_NEWADDR,
                                       NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  auto* header = reinterpret_cast<nlmsghdr*>(request);
  ifa->ifa_family = family_of(address);
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = ifindex;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  const size_t length = length_of(address);
  mnl_attr_put(header, IFA_LOCAL, length, address.bytes.data());
  mnl_attr_put(header, IFA_ADDRESS, length, address.bytes.data());
  if (!address.v6) {
    // The subnet's broadcast address, as `ip address add … brd +` would set it.
    if (prefix < 31) {
      uint32_t host = 0;
      std::memcpy(&host, address.bytes.data(), 4);
      const uint32_t mask = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
      const uint32_t broadcast = host | ~mask;
      mnl_attr_put_u32(header, IFA_BROADCAST, broadcast);
    }
    if (!label.empty()) mnl_attr_put_strz(header, IFA_LABEL, label.c_str());
  }
  mnl_attr_put_u8(header, IFA_PROTO, kAddressProto);
  auto r = exchange(request, [](const nlmsghdr*) {});
  if (!r)
    return make_error(r.error().code, "adding " + directory::format_ip_address(address) + "/" +
                                          std::to_string(prefix) + ": " + r.error().message);
  return {};
}

Result<void> Rtnetlink::remove_address(int ifindex, const directory::IpAddress& address,
                                       int prefix) {
  char request[MNL_SOCKET_BUFFER_SIZE];
  auto* ifa = start_request<ifaddrmsg>(request, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
  auto* header = reinterpret_cast<nlmsghdr*>(request);
  ifa->ifa_family = family_of(address);
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = ifindex;
  mnl_attr_put(header, IFA_LOCAL, length_of(address), address.bytes.data());
  auto r = exchange(request, [](const nlmsghdr*) {});
  if (!r)
    return make_error(r.error().code, "removing " + directory::format_ip_address(address) + "/" +
                                          std::to_string(prefix) + ": " + r.error().message);
  return {};
}

}  // namespace postcore::netcfg
