"""A small rtnetlink client for tests: lists addresses with their IFA_PROTO mark and adds
one with a mark, which Debian 12's iproute2 can neither show nor set. Independent of
postcore's own netlink code, so a test reads the kernel's view, not postcore's."""
import ipaddress
import socket
import struct

RTM_NEWADDR, RTM_GETADDR = 20, 22
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 1, 4, 0x200, 0x400, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFA_ADDRESS, IFA_LOCAL, IFA_PROTO = 1, 2, 11


def _align(n):
    return (n + 3) & ~3


def _attr(kind, payload):
    return struct.pack('=HH', 4 + len(payload), kind) + payload + b'\0' * (_align(len(payload)) - len(payload))


def _talk(message_type, flags, body):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        s.bind((0, 0))
        header = struct.pack('=IHHII', 16 + len(body), message_type, flags, 1, 0)
        s.send(header + body)
        out = []
        while True:
            data = s.recv(65536)
            at = 0
            while at + 16 <= len(data):
                length, kind, _, _, _ = struct.unpack_from('=IHHII', data, at)
                if kind == NLMSG_DONE:
                    return out
                if kind == NLMSG_ERROR:
                    error = struct.unpack_from('=i', data, at + 16)[0]
                    if error:
                        raise OSError(-error, 'rtnetlink: ' + socket.os.strerror(-error))
                    return out
                out.append((kind, data[at + 16:at + length]))
                at += _align(length)


def addresses(ifname):
    """{address text: (prefix, proto)} of interface `ifname`."""
    index = socket.if_nametoindex(ifname)
    found = {}
    for kind, body in _talk(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, struct.pack('=BBBBI', 0, 0, 0, 0, 0)):
        if kind != RTM_NEWADDR:
            continue
        family, prefix, _, _, ifindex = struct.unpack_from('=BBBBI', body)
        if ifindex != index:
            continue
        attrs, at = {}, 8
        while at + 4 <= len(body):
            length, attr = struct.unpack_from('=HH', body, at)
            attrs[attr] = body[at + 4:at + length]
            at += _align(length)
        raw = attrs.get(IFA_LOCAL, attrs.get(IFA_ADDRESS))
        text = str(ipaddress.ip_address(raw))
        found[text] = (prefix, attrs[IFA_PROTO][0] if IFA_PROTO in attrs else 0)
    return found


def add_address(ifname, cidr, proto):
    interface = ipaddress.ip_interface(cidr)
    family = socket.AF_INET6 if interface.version == 6 else socket.AF_INET
    body = struct.pack('=BBBBI', family, interface.network.prefixlen, 0, 0,
                       socket.if_nametoindex(ifname))
    packed = interface.ip.packed
    body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed) + _attr(IFA_PROTO, bytes([proto]))
    _talk(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body)
