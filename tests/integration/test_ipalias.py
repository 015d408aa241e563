"""IP aliases (postcorectl ip) against a real `postcore up` in a network namespace of the
test's own: this process moves into a fresh namespace (unshare), so the appliance, the
CLI and every address they touch live there and nowhere else. A second namespace, joined
by a veth pair, is the neighbour: it watches for gratuitous ARP and neighbour
advertisements, holds an address the `--check` probe must find, and runs the SMTP client.

Needs root (CAP_SYS_ADMIN for unshare, CAP_NET_ADMIN for the addresses); without it every
test is skipped with the reason."""
import ctypes
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import unittest

import rtnl
from harness import POSTCORECTL, Appliance, wait_unix_socket

HERE = os.path.dirname(os.path.abspath(__file__))
CLONE_NEWNET = 0x40000000
NEIGHBOUR = f'pc-ipa-{os.getpid()}'
OURS, THEIRS = 'pcA', 'pcN'  # the veth ends: ours here, theirs in the neighbour namespace
CAP_NET_ADMIN, CAP_NET_RAW = 12, 13
SKIP_REASON = None

# Runs in the neighbour namespace: prints one JSON line per gratuitous ARP or neighbour
# advertisement seen on its veth end within the given seconds.
SNIFFER = r'''
import json, select, socket, struct, sys, time
iface, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
print('ready', flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    if not select.select([s], [], [], 0.05)[0]:
        continue
    frame, addr = s.recvfrom(2048)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    kind = struct.unpack('!H', frame[12:14])[0]
    if kind == 0x0806 and len(frame) >= 42:
        op = struct.unpack('!H', frame[20:22])[0]
        sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
        print(json.dumps({'arp': op, 'sha': sha.hex(':'), 'spa': socket.inet_ntoa(spa),
                          'tpa': socket.inet_ntoa(tpa)}), flush=True)
    elif kind == 0x86dd and len(frame) >= 78 and frame[20] == 58 and frame[54] == 136:
        target = socket.inet_ntop(socket.AF_INET6, frame[62:78])
        options = frame[78:]
        tlla = options[2:8].hex(':') if len(options) >= 8 and options[0] == 2 else ''
        print(json.dumps({'na': target, 'override': bool(frame[58] & 0x20), 'tlla': tlla}),
              flush=True)
'''


def sh(*args, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f'{" ".join(args)}: {r.stderr.strip()}')
    return r


def in_neighbour(*args, check=True):
    return sh('ip', 'netns', 'exec', NEIGHBOUR, *args, check=check)


def setUpModule():
    global SKIP_REASON
    if os.geteuid() != 0:
        SKIP_REASON = 'needs root for network namespaces and interface addresses'
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        SKIP_REASON = f'unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}'
        return
    if sh('ip', 'netns', 'add', NEIGHBOUR, check=False).returncode != 0:
        SKIP_REASON = 'ip netns add failed: no named network namespaces here'
        return
    sh('ip', 'link', 'set', 'lo', 'up')
    sh('ip', 'link', 'add', OURS, 'type', 'veth', 'peer', 'name', THEIRS, 'netns', NEIGHBOUR)
    sh('ip', 'link', 'set', OURS, 'up')
    sh('ip', 'address', 'add', '10.199.0.1/24', 'dev', OURS)
    sh('ip', 'address', 'add', 'fd00:199::1/64', 'dev', OURS, 'nodad')
    in_neighbour('ip', 'link', 'set', 'lo', 'up')
    in_neighbour('ip', 'link', 'set', THEIRS, 'up')
    in_neighbour('ip', 'address', 'add', '10.199.0.2/24', 'dev', THEIRS)
    in_neighbour('ip', 'address', 'add', 'fd00:199::2/64', 'dev', THEIRS, 'nodad')
    # The veth carries frames only once both ends are running.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        link = json.loads(sh('ip', '-j', 'link', 'show', 'dev', OURS).stdout)[0]
        if link.get('operstate') == 'UP':
            return
        time.sleep(0.05)
    sh('ip', 'netns', 'del', NEIGHBOUR, check=False)
    raise RuntimeError('the veth pair to the neighbour namespace did not come up')


def tearDownModule():
    if SKIP_REASON is None:
        sh('ip', 'netns', 'del', NEIGHBOUR, check=False)


def system_addresses(iface=OURS):
    """{address: (prefix, proto)} of `iface` as the kernel has them."""
    return rtnl.addresses(iface)


def mac_of(iface, neighbour=False):
    run = in_neighbour if neighbour else sh
    return json.loads(run('ip', '-j', 'link', 'show', 'dev', iface).stdout)[0]['address']


def alias_profile():
    with open(os.path.join(HERE, '..', '..', 'hwprofiles', 'dev.toml')) as f:
        profile = f.read()
    return profile.replace('[smtp]', '[[listener]]\nservice = "smtp"\naddress = "aliases"\n\n'
                           '[smtp]', 1)


class IpAliases(unittest.TestCase):
    def setUp(self):
        if SKIP_REASON:
            self.skipTest(SKIP_REASON)
        self.app = Appliance(profile_text=alias_profile()).start()

    def tearDown(self):
        app = getattr(self, 'app', None)
        if app:
            try:
                # Whatever a test left in the store goes from the system with it.
                for a in json.loads(app.ctl('--json', 'ip', 'list').stdout):
                    if a['state'] != 'stray':
                        app.ctl('ip', 'remove', a['address'], '--force', check=False)
                app.ctl('ip', 'sync', check=False)
            finally:
                app.finish()

    def ip_list(self):
        return {a['address']: a for a in json.loads(self.app.ctl('--json', 'ip', 'list').stdout)}

    def test_add_list_remove_ipv4_and_ipv6(self):
        app = self.app
        app.ctl('domain', 'add', 'example.test')
        r = app.ctl('ip', 'add', '10.199.0.50/24', 'dev', OURS, '--label', 'mail',
                    '--domain', 'example.test', '--service', 'smtp,submission')
        self.assertIn('10.199.0.50/24 added on pcA', r.stdout)
        app.ctl('ip', 'add', 'fd00:199::50/64', 'dev', OURS)
        present = system_addresses()
        self.assertEqual(present['10.199.0.50'], (24, 0x70))
        self.assertEqual(present['fd00:199::50'], (64, 0x70))
        link = json.loads(sh('ip', '-j', 'address', 'show', 'dev', OURS).stdout)[0]
        labels = {a['local']: a.get('label') for a in link['addr_info']}
        self.assertEqual(labels['10.199.0.50'], 'pcA:mail')
        listed = self.ip_list()
        self.assertEqual(listed['10.199.0.50']['domain'], 'example.test')
        self.assertEqual(listed['10.199.0.50']['services'], ['smtp', 'submission'])
        self.assertIn(listed['10.199.0.50']['state'], ('up',))
        self.assertIn(listed['fd00:199::50']['state'], ('up', 'tentative'))
        text = app.ctl('ip', 'list').stdout
        self.assertIn('10.199.0.50/24\tdev pcA\tup\tlabel pcA:mail\tdomain example.test', text)
        app.ctl('ip', 'remove', '10.199.0.50')
        app.ctl('ip', 'remove', 'fd00:199::50')
        present = system_addresses()
        self.assertNotIn('10.199.0.50', present)
        self.assertNotIn('fd00:199::50', present)
        self.assertEqual(self.ip_list(), {})
        # The address the test set up by hand was never touched.
        self.assertIn('10.199.0.1', present)
        audit = app.ctl('audit').stdout
        self.assertIn('ip.add  10.199.0.50', audit)
        self.assertIn('ip.remove  fd00:199::50', audit)

    def test_bad_input_is_one_line_and_changes_nothing(self):
        app = self.app
        app.ctl('ip', 'add', '10.199.0.60/24', 'dev', OURS)
        before_system, before_list = system_addresses(), self.ip_list()
        cases = [
            (('ip', 'add', '10.199.0.999/24', 'dev', OURS), 2,
             "address '10.199.0.999/24': not an IPv4 or IPv6 address"),
            (('ip', 'add', '10.199.0.61/33', 'dev', OURS), 2,
             "address '10.199.0.61/33': prefix length must be 1 to 32"),
            (('ip', 'add', 'fd00:199::61/129', 'dev', OURS), 2,
             "address 'fd00:199::61/129': prefix length must be 1 to 128"),
            (('ip', 'add', '224.0.0.9/24', 'dev', OURS), 2,
             "address '224.0.0.9/24': a multicast address cannot be an alias"),
            (('ip', 'add', '10.199.0.61/24', 'dev', 'nosuch0'), 1,
             'no interface nosuch0 on this system'),
            (('ip', 'add', '10.199.0.60/24', 'dev', OURS), 1, 'IP alias 10.199.0.60 already exists'),
            (('ip', 'add', '10.199.0.1/24', 'dev', OURS), 1,
             '10.199.0.1 is already on pcA and postcore did not add it'),
            (('ip', 'add', '10.199.0.61/24', 'dev', OURS, '--service', 'gopher'), 2,
             "unknown service 'gopher'"),
            (('ip', 'add', '10.199.0.61/24', 'dev', OURS, '--domain', 'nowhere.example'), 1,
             'no such domain'),
            (('ip', 'add', 'fd00:199::61/64', 'dev', OURS, '--label', 'x'), 2,
             'labels are for IPv4 addresses only'),
            (('ip', 'add', '10.199.0.61/24'), 2, 'which interface?'),
            (('ip', 'remove', '10.199.0.62'), 1, 'no such IP alias: 10.199.0.62'),
            (('ip', 'remove', 'nonsense'), 2, "address 'nonsense': not an IPv4 or IPv6 address"),
        ]
        for args, status, message in cases:
            with self.subTest(args=args):
                r = app.ctl(*args, check=False)
                self.assertEqual(r.returncode, status, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(message, r.stderr)
        self.assertEqual(system_addresses(), before_system)
        self.assertEqual(self.ip_list(), before_list)

    def test_aliases_survive_a_restart_and_sync_repairs_drift(self):
        app = self.app
        app.ctl('ip', 'add', '10.199.0.70/24', 'dev', OURS)
        app.ctl('ip', 'add', '10.199.0.71/24', 'dev', OURS)
        # As after a reboot: the addresses are gone from the system, the store has them.
        app.stop()
        self.first = app  # its temporary directory holds the data directory
        sh('ip', 'address', 'del', '10.199.0.70/24', 'dev', OURS)
        sh('ip', 'address', 'del', '10.199.0.71/24', 'dev', OURS)
        self.app = app = Appliance(profile_text=alias_profile(), data_dir=app.data_dir).start()
        present = system_addresses()
        self.assertEqual(present.get('10.199.0.70'), (24, 0x70))
        self.assertEqual(present.get('10.199.0.71'), (24, 0x70))
        # Drift: one alias removed by hand, one of postcore's addresses that the store no
        # longer has (a stray), and one address someone else added.
        sh('ip', 'address', 'del', '10.199.0.71/24', 'dev', OURS)
        rtnl.add_address(OURS, '10.199.0.72/24', 0x70)
        sh('ip', 'address', 'add', '10.199.0.73/24', 'dev', OURS)
        listed = self.ip_list()
        self.assertEqual(listed['10.199.0.70']['state'], 'up')
        self.assertEqual(listed['10.199.0.71']['state'], 'missing')
        self.assertEqual(listed['10.199.0.72']['state'], 'stray')
        self.assertNotIn('10.199.0.73', listed)
        r = app.ctl('ip', 'sync')
        self.assertIn('added 10.199.0.71 on pcA', r.stdout)
        self.assertIn('removed 10.199.0.72 on pcA', r.stdout)
        present = system_addresses()
        self.assertIn('10.199.0.71', present)
        self.assertNotIn('10.199.0.72', present)
        self.assertEqual(present.get('10.199.0.73'), (24, 0))  # not postcore's: untouched
        self.assertEqual({a['state'] for a in self.ip_list().values()}, {'up'})
        self.assertIn('the system matches the configuration', app.ctl('ip', 'sync').stdout)
        sh('ip', 'address', 'del', '10.199.0.73/24', 'dev', OURS)
        # One of postcore's addresses the store lost (a stray) is taken back by `ip add`.
        rtnl.add_address(OURS, '10.199.0.74/24', 0x70)
        app.ctl('ip', 'add', '10.199.0.74/24', 'dev', OURS)
        self.assertEqual(self.ip_list()['10.199.0.74']['state'], 'up')
        # The control plane alone killed and restarted by the supervisor puts back what
        # went missing meanwhile.
        control = app.child_pid('postcore-control')
        os.kill(control, signal.SIGKILL)
        sh('ip', 'address', 'del', '10.199.0.70/24', 'dev', OURS)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and '10.199.0.70' not in system_addresses():
            time.sleep(0.1)
        self.assertEqual(system_addresses().get('10.199.0.70'), (24, 0x70))
        self.assertNotEqual(app.child_pid('postcore-control'), control)
        self.assertTrue(wait_unix_socket(os.path.join(app.data_dir, 'control.sock'),
                                         time.monotonic() + 15))

    def sniff(self, seconds, action):
        sniffer = subprocess.Popen(
            ['ip', 'netns', 'exec', NEIGHBOUR, sys.executable, '-c', SNIFFER, THEIRS,
             str(seconds)], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(sniffer.stdout.readline().strip(), 'ready')
            action()
            out, _ = sniffer.communicate(timeout=seconds + 10)
        finally:
            if sniffer.poll() is None:
                sniffer.kill()
                sniffer.wait()
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def test_neighbours_are_told_of_a_new_address(self):
        app = self.app
        ours = mac_of(OURS)
        seen = self.sniff(2, lambda: app.ctl('ip', 'add', '10.199.0.80/24', 'dev', OURS))
        garp = [f for f in seen if f.get('spa') == '10.199.0.80' and f.get('tpa') == '10.199.0.80']
        self.assertEqual(len(garp), 3, seen)
        self.assertTrue(all(f['sha'] == ours for f in garp), seen)
        # Announced once duplicate address detection has passed, a second or two after the add.
        seen = self.sniff(7, lambda: app.ctl('ip', 'add', 'fd00:199::80/64', 'dev', OURS))
        na = [f for f in seen if f.get('na') == 'fd00:199::80']
        self.assertGreaterEqual(len(na), 3, seen)
        self.assertTrue(all(f['override'] and f['tlla'] == ours for f in na), seen)

    def test_check_refuses_an_address_another_host_answers_for(self):
        app = self.app
        theirs = mac_of(THEIRS, neighbour=True)
        for address in ('10.199.0.2/24', 'fd00:199::2/64'):
            with self.subTest(address=address):
                r = app.ctl('ip', 'add', address, 'dev', OURS, '--check', check=False)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1)
                self.assertIn(f'another host ({theirs}) answers for {address.split("/")[0]}',
                              r.stderr)
                self.assertNotIn(address.split('/')[0], system_addresses())
        self.assertEqual(self.ip_list(), {})
        # Without --check, IPv6 duplicate address detection still finds the other holder.
        r = app.ctl('ip', 'add', 'fd00:199::2/64', 'dev', OURS, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('another host on pcA holds fd00:199::2 (duplicate address detection '
                      'failed)', r.stderr)
        self.assertNotIn('fd00:199::2', system_addresses())
        self.assertEqual(self.ip_list(), {})
        # Nobody holds this one: the check passes.
        app.ctl('ip', 'add', '10.199.0.90/24', 'dev', OURS, '--check')
        self.assertIn('10.199.0.90', system_addresses())
        # --force takes an address over even though the old holder still answers.
        app.ctl('ip', 'add', '10.199.0.2/24', 'dev', OURS, '--check', '--force')
        self.assertIn('10.199.0.2', system_addresses())

    def test_lockout_guard(self):
        app = self.app
        app.ctl('ip', 'add', '10.199.0.100/24', 'dev', OURS)
        env = dict(os.environ, SSH_CONNECTION='10.199.0.2 50022 10.199.0.100 22')
        r = app.ctl('ip', 'remove', '10.199.0.100', check=False, env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('10.199.0.100 carries your SSH session; removing it could lock you out '
                      '(use --force)', r.stderr)
        self.assertIn('10.199.0.100', system_addresses())
        self.assertIn('10.199.0.100', self.ip_list())
        app.ctl('ip', 'remove', '10.199.0.100', '--force', env=env)
        self.assertNotIn('10.199.0.100', system_addresses())
        # sudo drops SSH_CONNECTION: postcorectl finds it in the nearest ancestor that has it.
        app.ctl('ip', 'add', '10.199.0.100/24', 'dev', OURS)
        env = dict(os.environ, SSH_CONNECTION='10.199.0.2 50022 10.199.0.100 22')
        wrapper = ('import os, subprocess, sys\n'
                   'env = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}\n'
                   'sys.exit(subprocess.run(sys.argv[1:], env=env).returncode)\n')
        r = subprocess.run([sys.executable, '-c', wrapper, POSTCORECTL, '--data-dir',
                            app.data_dir, 'ip', 'remove', '10.199.0.100'],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('10.199.0.100 carries your SSH session', r.stderr)
        # Someone else's SSH session (to port 22 on the alias) stops it too.
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(('10.199.0.100', 22))
            server.listen()
            client = subprocess.Popen(
                ['ip', 'netns', 'exec', NEIGHBOUR, sys.executable, '-c',
                 'import socket, sys; s = socket.create_connection(("10.199.0.100", 22), 5); '
                 'print("connected", flush=True); sys.stdin.read()'],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(client.stdout.readline().strip(), 'connected')
                session, _ = server.accept()
                r = app.ctl('ip', 'remove', '10.199.0.100', check=False)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn('10.199.0.100 carries an SSH session (port 22)', r.stderr)
                session.close()
            finally:
                client.stdin.close()
                client.wait(timeout=10)
                client.stdout.close()
        app.ctl('ip', 'remove', '10.199.0.100', '--force')
        # The last IPv4 address of the interface with the default route (a veth pair inside
        # this namespace stands in for the uplink).
        sh('ip', 'link', 'add', 'pcdum0', 'type', 'veth', 'peer', 'name', 'pcdum1')
        try:
            sh('ip', 'link', 'set', 'pcdum0', 'up')
            sh('ip', 'link', 'set', 'pcdum1', 'up')
            app.ctl('ip', 'add', '10.200.0.5/24', 'dev', 'pcdum0')
            sh('ip', 'route', 'add', 'default', 'dev', 'pcdum0')
            r = app.ctl('ip', 'remove', '10.200.0.5', check=False)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('10.200.0.5 is the last IPv4 address of pcdum0, which has the default '
                          'route', r.stderr)
            self.assertIn('10.200.0.5', system_addresses('pcdum0'))
            app.ctl('ip', 'remove', '10.200.0.5', '--force')
            self.assertNotIn('10.200.0.5', system_addresses('pcdum0'))
        finally:
            sh('ip', 'link', 'del', 'pcdum0', check=False)

    def smtp_from_neighbour(self, address, port):
        script = ('import smtplib, sys\n'
                  'with smtplib.SMTP(timeout=5) as s:\n'
                  '    print(s.connect(sys.argv[1], int(sys.argv[2]))[1].decode())\n'
                  '    s.sendmail("a@outside.example", ["alice@example.test"],\n'
                  '               b"Subject: via alias\\r\\n\\r\\nhello\\r\\n")\n'
                  '    print("sent")\n')
        return in_neighbour(sys.executable, '-c', script, address, str(port), check=False)

    def test_listener_follows_aliases_and_greets_with_the_domain(self):
        app = self.app
        app.ctl('domain', 'add', 'example.test')
        app.ctl('account', 'add', 'alice@example.test')
        # An alias without the smtp service gets no SMTP listener: added first, so that once
        # the next one answers, the snapshot holding both is in force.
        app.ctl('ip', 'add', '10.199.0.111/24', 'dev', OURS, '--service', 'imap')
        app.ctl('ip', 'add', '10.199.0.110/24', 'dev', OURS, '--domain', 'example.test',
                '--service', 'smtp')
        deadline, r = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            r = self.smtp_from_neighbour('10.199.0.110', app.smtp_port)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith('example.test ESMTP'), r.stdout)
        self.assertIn('sent', r.stdout)
        self.assertEqual(len(app.spool_list()), 1)
        # The same over IPv6 (once duplicate address detection lets the address be used).
        app.ctl('ip', 'add', 'fd00:199::110/64', 'dev', OURS, '--domain', 'example.test')
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = self.smtp_from_neighbour('fd00:199::110', app.smtp_port)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith('example.test ESMTP'), r.stdout)
        # Loopback still greets with the profile's hostname.
        with smtplib.SMTP(timeout=10) as s:
            self.assertTrue(s.connect('127.0.0.1', app.smtp_port)[1].decode().startswith('localhost '))
        self.assertNotEqual(self.smtp_from_neighbour('10.199.0.111', app.smtp_port).returncode, 0)
        # Removed: the listener closes.
        app.ctl('ip', 'remove', '10.199.0.110')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.smtp_from_neighbour('10.199.0.110', app.smtp_port).returncode != 0:
                break
            time.sleep(0.2)
        else:
            self.fail('the listener on a removed alias still answers')

    def test_only_the_control_plane_holds_net_admin(self):
        def capabilities(pid):
            with open(f'/proc/{pid}/status') as f:
                for line in f:
                    if line.startswith('CapEff:'):
                        return int(line.split()[1], 16)
            return 0

        control = capabilities(self.app.child_pid('postcore-control'))
        dataplane = capabilities(self.app.dataplane_pid())
        self.assertTrue(control & (1 << CAP_NET_ADMIN))
        self.assertFalse(dataplane & (1 << CAP_NET_ADMIN))
        self.assertFalse(dataplane & (1 << CAP_NET_RAW))


if __name__ == '__main__':
    unittest.main()
