"""Power cuts under SMTP load, on real files.

kill -9 keeps the page cache, so it cannot show a missing fdatasync. Here every member of
the volume set is a powercut-fs mount (tests/powercut): a file system that keeps what was
written since each file's last fsync, and the names made since each directory's last fsync,
in memory only, and forgets them on command; so is the data directory. A cut, at a random
instant while loaders send mail and record every 250:
  1. every member is frozen (each request from then on waits): the instant of the cut;
  2. each member loses what it had not made durable ("drop"), or, on a two-member set, one
     of them may keep it all ("keep": a disk whose cache reached the platter);
  3. the appliance is killed (-9); its threads blocked in the file system die as the
     members are unmounted;
  4. fresh mounts serve what survived, and the appliance starts again on them.
Then every acknowledged message must be in the spool, byte-identical, and none twice, and
every domain that `postcorectl domain add` reported added (the configuration store lives on
the same members) must be there. Each cut prints acked / found / lost / duplicated;
POWERCUT_CUTS sets the cuts per set (26, so 52 in all, by default), POWERCUT_SEED the
random instants."""
import json
import os
import random
import signal
import smtplib
import socket
import subprocess
import threading
import time
import unittest

from harness import Appliance, BUILD, POSTCORECTL, assert_spool_holds, hold_delivery
from test_mirror import mirror_profile

POWERCUT_FS = os.path.join(BUILD, 'tests', 'powercut', 'powercut-fs')
CUTS = int(os.environ.get('POWERCUT_CUTS', '26'))
LOADERS = 3
MAX_PER_LOADER_PER_CUT = 300  # bounds each load phase in count as well as in time


def missing_requirement():
    if not os.path.exists(POWERCUT_FS):
        return f'{POWERCUT_FS} was not built (libfuse3-dev missing)'
    if not os.path.exists('/dev/fuse'):
        return 'this machine has no /dev/fuse'
    if os.geteuid() != 0:
        return 'mounting a FUSE file system with allow_other needs root'
    return None


class Member:
    """One powercut-fs mount: the member directory the appliance writes to."""

    def __init__(self, root, name):
        self.mountpoint = os.path.join(root, name)
        self.state = os.path.join(root, name + '.state')
        self.control = os.path.join(root, name + '.ctl')
        self.proc = None
        os.makedirs(self.mountpoint, exist_ok=True)

    def mount(self):
        self.proc = subprocess.Popen([POWERCUT_FS, '--state', self.state, '--control',
                                      self.control, self.mountpoint])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.command('stats')
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f'powercut-fs did not come up on {self.mountpoint}')

    def command(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(self.control)
            s.sendall(line.encode() + b'\n')
            answer = b''
            while not answer.endswith(b'\n'):
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        answer = answer.decode().strip()
        if not answer.startswith('ok'):
            raise RuntimeError(f'powercut-fs {line}: {answer!r}')
        return answer

    def unmount(self):
        """Ends the file system: requests still waiting get EIO, the mount goes."""
        if self.proc and self.proc.poll() is None:
            try:
                self.command('exit')
            except OSError:
                self.proc.terminate()
            self.proc.wait(30)
        subprocess.run(['umount', '-l', self.mountpoint], capture_output=True)
        self.proc = None


class Loader(threading.Thread):
    """An SMTP client that sends until stopped and records every message answered 250."""

    def __init__(self, port, name, acked, lock, stop):
        super().__init__(daemon=True)
        self.port, self.name_, self.acked, self.lock, self.stop = port, name, acked, lock, stop
        self.seq = 0

    def message(self):
        self.seq += 1
        body = (f'{self.name_} message {self.seq}\r\n' +
                ('power cut line\r\n' * random.randrange(1, 400)))
        return (f'From: load@sender.example\r\nTo: sink@example.test\r\n'
                f'Subject: {self.name_}.{self.seq}\r\n\r\n{body}').encode()

    def run(self):
        deadline = time.monotonic() + 120
        while (not self.stop.is_set() and time.monotonic() < deadline
               and self.seq < MAX_PER_LOADER_PER_CUT):
            try:
                with smtplib.SMTP('127.0.0.1', self.port, timeout=10) as s:
                    s.ehlo('loader.example')
                    while not self.stop.is_set() and self.seq < MAX_PER_LOADER_PER_CUT:
                        data = self.message()
                        s.mail('load@sender.example')
                        s.rcpt('sink@example.test')
                        code, resp = s.data(data)
                        if code == 250:
                            with self.lock:
                                self.acked[resp.decode().split()[-1]] = data
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)


class StoreLoader(threading.Thread):
    """Adds domains through postcorectl until stopped; records each one reported added."""

    def __init__(self, data_dir, name, added, stop):
        super().__init__(daemon=True)
        self.data_dir, self.name_, self.added, self.stop = data_dir, name, added, stop

    def run(self):
        for i in range(MAX_PER_LOADER_PER_CUT):
            if self.stop.is_set():
                break
            domain = f'{self.name_}-{i}.example'
            try:
                r = subprocess.run([POSTCORECTL, '--data-dir', self.data_dir, 'domain', 'add',
                                    domain], capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                continue
            if r.returncode == 0:
                self.added.add(domain)


def process_gone(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ', 1)[1].startswith('Z')
    except FileNotFoundError:
        return True


@unittest.skipIf(missing_requirement(), missing_requirement())
class PowerCut(unittest.TestCase):
    def setUp(self):
        self.app = None
        self.data = None
        self.members = []

    def tearDown(self):
        if self.app and self.app.proc and self.app.proc.poll() is None:
            self.kill_appliance()
        for m in self.mounts():
            m.unmount()
        if self.app:
            self.app.tmp.cleanup()

    def appliance(self, count):
        self.app = Appliance(profile_text='')  # its temporary directory holds the members too
        # The data directory (member edits, the resilver's record, the directory snapshot,
        # the admin socket) is on a disk of its own that loses its cache at every cut.
        self.data = Member(self.app.tmp.name, 'var')
        self.assertEqual(self.data.mountpoint, self.app.data_dir)
        self.members = [Member(self.app.tmp.name, f'disk{i + 1}') for i in range(count)]
        listed = ', '.join(f'"{m.mountpoint}"' for m in self.members)
        profile = hold_delivery(mirror_profile()).replace('members = ["disk1", "disk2"]',
                                                          f'members = [{listed}]')
        # Small segments: cuts land in rotations, seals and index writes too.
        profile = profile.replace('segment_size = "64M"', 'segment_size = "1M"')
        self.assertIn(listed, profile)
        with open(self.app.profile, 'w') as f:
            f.write(profile)
        for m in self.mounts():
            m.mount()
        self.app.start()
        # From the first domain on, the directory decides every RCPT: the loaders' recipient.
        self.app.ctl('domain', 'add', 'example.test')
        self.app.ctl('account', 'add', 'sink@example.test')
        return self.app

    def mounts(self):
        return ([self.data] if getattr(self, 'data', None) else []) + self.members

    def kill_appliance(self):
        """kill -9 of the supervisor and its children; nothing restarts or seals anything."""
        app = self.app
        children = [p for p in (app.dataplane_pid(), app.child_pid('postcore-control')) if p]
        os.kill(app.proc.pid, signal.SIGSTOP)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        os.kill(app.proc.pid, signal.SIGKILL)
        return children

    def power_cut(self, modes):
        """The cut: freeze every member, apply `modes`, kill, unmount, mount again. Returns
        the unsynced bytes and names the members that lost their caches forgot."""
        for m in self.mounts():
            m.command('freeze')
        lost_bytes = lost_names = 0
        for m, mode in zip(self.mounts(), ['drop'] + list(modes)):
            answer = dict(f.split('=') for f in m.command('cut ' + mode).split()[1:])
            if mode == 'drop':
                lost_bytes += int(answer['unsynced_bytes'])
                lost_names += int(answer['unsynced_names'])
        children = self.kill_appliance()
        for m in self.mounts():
            m.unmount()  # answers the killed threads still waiting in the file system
        self.app.proc.wait(30)
        self.app.log.close()
        deadline = time.monotonic() + 30
        while not all(process_gone(p) for p in children):
            self.assertLess(time.monotonic(), deadline, f'{children} outlived kill -9')
            time.sleep(0.02)
        for m in self.mounts():
            m.mount()
        return lost_bytes, lost_names

    def check(self, acked, label):
        assert_spool_holds(self, self.app, acked, label)

    def check_every_copy(self, label):
        """Every healthy member's copy of every segment verifies (spool list reads one)."""
        r = self.app.spool('verify', '--json')
        self.assertEqual(r.returncode, 0, f'{label}: {r.stdout}{r.stderr}')

    def assert_copies_identical(self):
        """After a clean stop every segment is sealed and every member's copy the same."""
        roots = [m.mountpoint for m in self.members]
        names = [sorted(os.path.relpath(os.path.join(d, n), r) for d, _, ns in
                        os.walk(os.path.join(r, 'spool')) for n in ns) for r in roots]
        for other in names[1:]:
            self.assertEqual(names[0], other)
        for rel in names[0]:
            copies = set()
            for r in roots:
                with open(os.path.join(r, rel), 'rb') as f:
                    copies.add(f.read())
            self.assertEqual(len(copies), 1, rel)

    def check_domains(self, added, label):
        r = self.app.ctl('domain', 'list')
        listed = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
        lost = sorted(added - listed)
        print(f'{label}: domains added {len(added)} / found {len(added) - len(lost)} / '
              f'lost {len(lost)}', flush=True)
        self.assertEqual(lost, [], self.app.read_log()[-6000:])

    def volume_states(self):
        r = self.app.ctl('--json', 'volume', 'status')
        return {m['root']: m['state'] for m in json.loads(r.stdout)['members']}

    def rebuild_members_taken_out(self):
        """A member that a cut left behind the others is rebuilt, so every cut finds the
        whole set in service."""
        for root, state in self.volume_states().items():
            if state != 'healthy':
                self.app.ctl('volume', 'replace', root)
        deadline = time.monotonic() + 120
        while set(self.volume_states().values()) != {'healthy'}:
            self.assertLess(time.monotonic(), deadline, self.app.read_log()[-6000:])
            time.sleep(0.1)

    def run_cuts(self, count, choose_modes):
        app = self.appliance(count)
        acked, lock, domains = {}, threading.Lock(), {'example.test'}
        rng = random.Random(int(os.environ.get('POWERCUT_SEED', time.time_ns())))
        taken_out = 0
        unsynced_bytes = unsynced_names = 0
        for cut in range(CUTS):
            stop = threading.Event()
            loaders = [Loader(app.smtp_port, f'set{count}-cut{cut}-loader{i}', acked, lock, stop)
                       for i in range(LOADERS)]
            loaders.append(StoreLoader(app.data_dir, f'set{count}-cut{cut}', domains, stop))
            for l in loaders:
                l.start()
            time.sleep(rng.uniform(0.05, 0.6))
            modes = choose_modes(rng)
            lost_bytes, lost_names = self.power_cut(modes)
            unsynced_bytes += lost_bytes
            unsynced_names += lost_names
            stop.set()
            for l in loaders:
                l.join(60)
            app.start()
            with lock:
                snapshot = dict(acked)
            label = f'{count} member(s), cut {cut + 1} ({"/".join(modes)})'
            self.check(snapshot, label)
            self.check_domains(set(domains), label)
            self.check_every_copy(label)
            if count > 1 and set(self.volume_states().values()) != {'healthy'}:
                taken_out += 1
                self.rebuild_members_taken_out()
        print(f'{count} member(s): {CUTS} cuts, {len(acked)} messages and {len(domains)} domains '
              f'acknowledged, {unsynced_bytes} unsynced bytes and {unsynced_names} unsynced names '
              f'forgotten, a member taken out after {taken_out} cuts', flush=True)
        self.assertGreater(len(acked), 0)
        self.assertGreater(unsynced_bytes, 0, 'no cut ever found unsynced writes to forget')
        self.assertGreater(unsynced_names, 0, 'no cut ever found unsynced names to forget')
        self.assertEqual(app.stop(), 0, app.read_log()[-6000:])
        self.assert_copies_identical()
        app.start()
        self.check(acked, f'{count} member(s), after a clean stop and restart')
        self.check_domains(domains, f'{count} member(s), after a clean stop and restart')

    def test_one_member(self):
        self.run_cuts(1, lambda rng: ['drop'])

    def test_two_members(self):
        # Both lose their caches, or one keeps everything it was sent while the other loses.
        self.run_cuts(2, lambda rng: rng.choice([['drop', 'drop'], ['drop', 'keep'],
                                                 ['keep', 'drop']]))


if __name__ == '__main__':
    unittest.main()
