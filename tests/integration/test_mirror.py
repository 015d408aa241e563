"""Mirrored volumes against a real `postcore up` on hwprofiles/dev-mirror.toml (two member
directories under the data directory): both members hold every message byte for byte, a
member that vanishes or fills up under SMTP load is taken out while service goes on and
no acknowledged message is lost, it stays out after a restart (its generation is older),
and with no member left SMTP answers 451 and acknowledges nothing."""
import fcntl
import json
import os
import random
import re
import shutil
import signal
import smtplib
import struct
import subprocess
import threading
import time
import unittest

from harness import POSTCORE, Appliance
from test_crash import Loader
from test_delivery import inbox, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def mirror_profile():
    with open(os.path.join(HERE, '..', '..', 'hwprofiles', 'dev-mirror.toml')) as f:
        return f.read()


def send(app, n, size=2000):
    ids = []
    with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
        s.ehlo('client.example')
        for i in range(n):
            body = f'Subject: mirror {i}\r\n\r\n'.encode() + (b'x' * 78 + b'\r\n') * (size // 80)
            s.mail('sender@outside.example')
            s.rcpt('someone@example.test')
            code, resp = s.data(body)
            assert code == 250, (code, resp)
            ids.append(resp.decode().split()[-1])
    return ids


def files_under(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


class Mirror(unittest.TestCase):
    def start(self):
        self.app = Appliance(profile_text=mirror_profile()).start()
        return self.app

    def tearDown(self):
        app = getattr(self, 'app', None)
        if app and app.proc:
            app.stop()
        # Mounts made for the test go before its files do.
        for undo in reversed(getattr(self, 'undo', [])):
            undo()
        if app and app.proc:
            app.finish()

    def member(self, name):
        return os.path.join(self.app.data_dir, name)

    def volume_status(self):
        r = self.app.ctl('--json', 'volume', 'status')
        return {os.path.basename(m['root']): m for m in json.loads(r.stdout)['members']}

    def wait_state(self, member, state, deadline=10.0):
        end = time.monotonic() + deadline
        while self.volume_status()[member]['state'] != state:
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.05)

    def load(self, seconds, during=None):
        """Runs SMTP loaders for `seconds`, calling `during` half way; returns the acked."""
        acked, lock, stop = {}, threading.Lock(), threading.Event()
        loaders = [Loader(self.app.smtp_port, i, acked, lock, stop) for i in range(4)]
        for l in loaders:
            l.start()
        time.sleep(seconds / 2)
        if during:
            during()
        time.sleep(seconds / 2)
        stop.set()
        for l in loaders:
            l.join(30)
        with lock:
            return dict(acked)

    def assert_all_stored(self, acked):
        stored = {m['queue_id'] for m in self.app.spool_list()}
        lost = [q for q in acked if q not in stored]
        self.assertEqual(lost, [], f'{len(lost)} of {len(acked)} acknowledged messages lost')

    def test_both_members_hold_every_message(self):
        app = self.start()
        status = self.volume_status()
        self.assertEqual(sorted(status), ['disk1', 'disk2'])
        self.assertTrue(all(m['state'] == 'healthy' for m in status.values()), status)
        ids = send(app, 50)
        app.stop()
        disk1 = files_under(os.path.join(self.member('disk1'), 'spool'))
        disk2 = files_under(os.path.join(self.member('disk2'), 'spool'))
        self.assertGreater(len(disk1), 0)
        self.assertEqual(disk1.keys(), disk2.keys())
        for name in disk1:
            self.assertEqual(disk1[name], disk2[name], name)
        app.start()
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list()), sorted(ids))

    def test_member_vanishing_under_load_loses_nothing(self):
        app = self.start()
        acked = self.load(3, during=lambda: shutil.rmtree(self.member('disk2')))
        self.wait_state('disk2', 'degraded')
        self.assertGreater(len(acked), 0)
        self.assert_all_stored(acked)
        self.assertEqual(self.volume_status()['disk1']['state'], 'healthy')
        after = send(app, 5)  # service goes on with one member
        print(f'acked {len(acked)} across the loss of disk2', flush=True)
        # Back after a restart, disk2 is empty and new: never trusted, and nothing is lost.
        self.assertEqual(app.stop(), 0, app.read_log())
        app.start()
        status = self.volume_status()
        self.assertEqual(status['disk2']['state'], 'stale', status)
        self.assertEqual(status['disk1']['state'], 'healthy')
        self.assert_all_stored(list(acked) + after)

    def test_member_vanishing_during_delivery_loses_no_mail(self):
        """Delivery runs while disk2 is deleted: every acknowledged message ends up in its
        mailbox once, on the member that is left, and the store verifies."""
        self.app = Appliance(profile_text=mirror_profile(), deliver=True).start()
        acked = self.load(3, during=lambda: shutil.rmtree(self.member('disk2')))
        self.wait_state('disk2', 'degraded')
        self.assertGreater(len(acked), 0)

        def delivered():
            listed = inbox(self.app, 'sink@example.test')
            return len(listed) >= len(acked) and listed
        listed = wait_for(delivered, 60) or inbox(self.app, 'sink@example.test')
        deliveries = [m.get('delivery') for m in listed]
        lost = [q for q in acked if q not in deliveries]
        print(f'acked {len(acked)} / in the mailbox {len(listed)} / lost {len(lost)} across '
              f'the loss of disk2', flush=True)
        self.assertEqual(lost, [])
        self.assertEqual(len(deliveries), len(set(deliveries)))
        self.assertEqual(self.app.stop(), 0, self.app.read_log())
        r = subprocess.run([POSTCORE, 'mailbox', 'verify', '--json', '--data-dir',
                            self.app.data_dir], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.app.start()
        self.assertEqual(len(inbox(self.app, 'sink@example.test')), len(listed))

    def test_no_member_left_answers_451(self):
        app = self.start()
        send(app, 3)
        shutil.rmtree(self.member('disk1'))
        shutil.rmtree(self.member('disk2'))
        self.wait_state('disk1', 'degraded')
        self.wait_state('disk2', 'degraded')
        with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
            s.ehlo('client.example')
            s.mail('sender@outside.example')
            s.rcpt('someone@example.test')
            # Refused at DATA when the spool cannot begin a message, else after the data.
            try:
                code, resp = s.data(b'Subject: nowhere to go\r\n\r\nx\r\n')
            except smtplib.SMTPDataError as e:
                code, resp = e.smtp_code, e.smtp_error
        self.assertEqual(code, 451, resp)
        self.assertIn('4.3.0', resp.decode())
        self.assertIn('no healthy member left', app.read_log())

    def sealed_segments(self, member):
        out = []
        spool = os.path.join(self.member(member), 'spool')
        for shard in sorted(os.listdir(spool)):
            names = os.listdir(os.path.join(spool, shard))
            for name in sorted(names):
                if name.endswith('.log') and name[:-4] + '.idx' in names:
                    out.append(os.path.join('spool', shard, name))
        return out

    def flip_bits(self, segments):
        """Flips bits in each segment on one member and in its index on the other, never in
        both copies of one file: every damaged copy has a good twin. Returns the number of
        damaged copies."""
        rng = random.Random(7)
        flipped = 0
        for i, segment in enumerate(segments):
            index = segment[:-4] + '.idx'
            damage = [('disk2', segment), ('disk1', index)] if i % 2 == 0 else \
                [('disk1', segment), ('disk2', index)]
            for member, rel in damage:
                with open(os.path.join(self.member(member), rel), 'r+b') as f:
                    data = bytearray(f.read())
                    for _ in range(5):
                        at = rng.randrange(0, len(data))
                        data[at] ^= 1 << rng.randrange(8)
                    f.seek(0)
                    f.write(data)
                flipped += 1
        return flipped

    def test_spool_verify_repair_mends_offline(self):
        app = self.start()
        ids = send(app, 40)
        refused = app.spool('verify', '--repair')
        self.assertEqual(refused.returncode, 1)
        self.assertIn('the appliance is running', refused.stderr)
        self.assertEqual(app.stop(), 0, app.read_log())
        segments = self.sealed_segments('disk1')
        flipped = self.flip_bits(segments)
        r = app.spool('verify', '--repair')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f'{flipped} mismatched, {flipped} repaired, 0 unrepaired', r.stdout)
        self.assertTrue(r.stdout.rstrip().endswith('ok'), r.stdout)
        self.assert_members_identical()
        app.start()
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list(content=True)), sorted(ids))

    def test_scrub_finds_and_mends_every_bit_flip(self):
        app = self.start()
        ids = send(app, 80)
        self.assertEqual(app.stop(), 0, app.read_log())  # a clean stop seals the segments
        segments = self.sealed_segments('disk1')
        self.assertEqual(segments, self.sealed_segments('disk2'))
        self.assertGreater(len(segments), 0)
        flipped = self.flip_bits(segments)
        # Read offline, every copy is checked, and each damaged one is named.
        r = app.spool('verify', '--json')
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertFalse(report['ok'])
        damaged = {os.path.basename(m['root']) for m in report['members'] if m['problems']}
        self.assertEqual(damaged, {'disk1', 'disk2'} if len(segments) > 0 else set())
        self.assertIn('corruption found in', r.stderr)
        app.start()
        app.ctl('volume', 'scrub')
        end = time.monotonic() + 60
        while not json.loads(app.ctl('--json', 'volume', 'status').stdout)['scrub'].startswith('done'):
            self.assertLess(time.monotonic(), end, app.read_log())
            time.sleep(0.1)
        scrub = json.loads(app.ctl('--json', 'volume', 'status').stdout)['scrub']
        print(f'scrub: {scrub}', flush=True)
        # A damaged index may already have been read (and mended) at start-up; the scrub
        # finds the rest. Either way every damaged copy is counted once as repaired.
        found = re.search(r'(\d+) mismatched, (\d+) repaired, 0 unrepaired', scrub)
        self.assertIsNotNone(found, scrub + app.read_log())
        self.assertEqual(found.group(1), found.group(2))
        for rel in segments + [s[:-4] + '.idx' for s in segments]:
            with open(os.path.join(self.member('disk1'), rel), 'rb') as a, \
                    open(os.path.join(self.member('disk2'), rel), 'rb') as b:
                self.assertEqual(a.read(), b.read(), rel)
        status = self.volume_status()
        self.assertEqual(status['disk1']['repaired'] + status['disk2']['repaired'], flipped)
        self.assertTrue(all(m['state'] == 'healthy' for m in status.values()), status)
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list(content=True)), sorted(ids))
        verified = app.spool('verify', '--json')
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertEqual(len(json.loads(verified.stdout)['members']), 2)

    def assert_members_identical(self):
        disk1 = files_under(os.path.join(self.member('disk1'), 'spool'))
        disk2 = files_under(os.path.join(self.member('disk2'), 'spool'))
        self.assertEqual(sorted(disk1), sorted(disk2))
        for name in disk1:
            self.assertEqual(disk1[name], disk2[name], name)
        return len(disk1)

    def wait_resilvered(self, deadline=60.0):
        end = time.monotonic() + deadline
        while True:
            status = json.loads(self.app.ctl('--json', 'volume', 'status').stdout)
            if 'done at' in status['resilver']:
                return status
            self.assertNotIn('failed', status['resilver'], self.app.read_log())
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.1)

    def test_replaced_member_is_resilvered_online(self):
        app = self.start()
        before = send(app, 40)
        shutil.rmtree(self.member('disk2'))
        self.wait_state('disk2', 'degraded')
        during_loss = send(app, 20)
        r = app.ctl('volume', 'replace', 'disk2')
        self.assertIn('resilver of', r.stdout)
        acked = self.load(2)  # writes go on while it is rebuilt
        status = self.wait_resilvered()
        print(f"resilver: {status['resilver']}", flush=True)
        self.assertEqual(self.volume_status()['disk2']['state'], 'healthy')
        self.assert_all_stored(list(acked) + before + during_loss)
        self.assertEqual(app.stop(), 0, app.read_log())
        self.assertGreater(self.assert_members_identical(), 0)
        # Both at the new generation: either can serve alone from now on.
        app.start()
        self.assertTrue(all(m['state'] == 'healthy' for m in self.volume_status().values()))
        refused = app.ctl('volume', 'replace', 'disk1', check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn('is healthy', refused.stderr)

    def test_resilver_copies_a_damaged_segment_from_a_member_whose_copy_verifies(self):
        """A latent bad sector in a sealed segment of the member a rebuild reads first is not
        copied onto the replaced disk: the copy of another member that verifies is."""
        self.app = Appliance(profile_text=mirror_profile().replace(
            'members = ["disk1", "disk2"]', 'members = ["disk1", "disk2", "disk3"]').replace(
            'segment_size = "64M"', 'segment_size = "1M"'))
        app = self.app.start()
        ids = send(app, 300, size=8000)  # 2.4 MB: sealed segments of 1 MB
        self.assertEqual(app.stop(), 0, app.read_log())
        spool = os.path.join(self.member('disk1'), 'spool')
        sealed = sorted(os.path.join('spool', shard, n) for shard in os.listdir(spool)
                        for n in os.listdir(os.path.join(spool, shard))
                        if n.endswith('.log') and os.path.exists(
                            os.path.join(spool, shard, n[:-4] + '.idx')))
        self.assertTrue(sealed)
        relative = sealed[0]
        damaged = os.path.join(self.member('disk1'), relative)
        with open(damaged, 'r+b') as f:
            f.seek(os.path.getsize(damaged) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0x10]))
        shutil.rmtree(self.member('disk3'))  # a new, empty disk in its slot
        app.start()
        self.assertEqual(self.volume_status()['disk3']['state'], 'stale')
        app.ctl('volume', 'replace', 'disk3')
        status = self.wait_resilvered()
        print(f"resilver: {status['resilver']}", flush=True)
        self.assertIn('1 copied from another member, 0 with no good copy', status['resilver'])
        with open(os.path.join(self.member('disk2'), relative), 'rb') as f:
            good = f.read()
        with open(os.path.join(self.member('disk3'), relative), 'rb') as f:
            self.assertEqual(f.read(), good)
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list()), sorted(ids))

    def test_volume_jobs_say_what_happened(self):
        """postcorectl follows what it asked of the dataplane: --wait returns with the
        outcome, and a request made while the dataplane cannot take it is not lost: it is
        said to be queued, and runs once the dataplane is back."""
        app = self.start()
        send(app, 20)
        r = app.ctl('volume', 'scrub', '--wait')
        self.assertRegex(r.stdout, r'scrub done at .*: \d+ files, .* 0 unrepaired')
        shutil.rmtree(self.member('disk2'))
        self.wait_state('disk2', 'degraded')
        job = json.loads(app.ctl('--json', 'volume', 'replace', 'disk2', '--wait').stdout)
        self.assertEqual(job['state'], 'done', job)
        self.assertIn(' done at ', job['outcome'])
        self.assertEqual(self.volume_status()['disk2']['state'], 'healthy')
        refused = app.ctl('volume', 'replace', 'disk2', check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        dataplane = app.dataplane_pid()
        os.kill(dataplane, signal.SIGSTOP)
        try:
            r = app.ctl('volume', 'scrub', check=False)
        finally:
            os.kill(dataplane, signal.SIGCONT)
        self.assertEqual(r.returncode, 1, r.stdout)
        queued = re.search(r'job (\d+) is queued, but the dataplane has not taken it', r.stderr)
        self.assertTrue(queued, r.stderr)
        deadline = time.monotonic() + 30
        while True:
            shown = app.ctl('volume', 'job', queued.group(1)).stdout
            if ': done: scrub done at ' in shown:
                break
            self.assertLess(time.monotonic(), deadline, shown)
            time.sleep(0.1)
        self.assertTrue(shown.startswith(f'job {queued.group(1)}: scrub: done'), shown)

    def test_resilver_resumes_after_a_restart(self):
        self.app = Appliance(profile_text=mirror_profile().replace(
            'members = ["disk1", "disk2"]',
            'members = ["disk1", "disk2"]\nmaintenance_rate = "2M"'))
        app = self.app.start()
        ids = send(app, 60, size=100 * 1024)  # 6 MB: about 6 s of resilver at 2 MB/s
        shutil.rmtree(self.member('disk2'))
        self.wait_state('disk2', 'degraded')
        app.ctl('volume', 'replace', 'disk2')
        time.sleep(1.5)
        self.assertIn('running', json.loads(app.ctl('--json', 'volume', 'status').stdout)['resilver'])
        self.assertEqual(app.stop(), 0, app.read_log())
        app.start()
        self.wait_state('disk2', 'resilvering')
        status = self.wait_resilvered()
        print(f"resumed resilver: {status['resilver']}", flush=True)
        self.assertIn('resuming the resilver', app.read_log())
        self.assertEqual(app.stop(), 0, app.read_log())
        self.assert_members_identical()
        app.start()
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list()), sorted(ids))

    def loop_member(self, name, profile_extra=''):
        """Puts member `name` on a fresh ext4 loop device; skips the test where that needs
        what this machine lacks (root, loop devices)."""
        if os.getuid() != 0:
            self.skipTest('a loop device needs root')
        self.app = Appliance(profile_text=mirror_profile().replace(
            'members = ["disk1", "disk2"]', 'members = ["disk1", "disk2"]' + profile_extra))
        mount_point = os.path.join(self.app.data_dir, name)
        os.makedirs(mount_point)
        image = os.path.join(self.app.tmp.name, name + '.img')
        with open(image, 'wb') as f:
            f.truncate(64 << 20)
        r = subprocess.run(['mkfs.ext4', '-q', image], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run(['mount', '-o', 'loop', image, mount_point],
                               capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest('no loop-mounted ext4 here: ' + r.stderr.strip())

        def unmount():
            subprocess.run(['fsfreeze', '-u', mount_point], capture_output=True)
            subprocess.run(['umount', mount_point], capture_output=True)
        self.undo = [unmount]
        return mount_point

    def test_dying_disk_under_load_loses_nothing(self):
        mount_point = self.loop_member('disk2')
        self.app.start()

        def shut_down_disk2():
            # EXT4_IOC_SHUTDOWN without flushing the log: from now on every call is EIO,
            # as from a disk that died.
            fd = os.open(mount_point, os.O_RDONLY)
            try:
                fcntl.ioctl(fd, 0x8004587d, struct.pack('I', 2))
            finally:
                os.close(fd)
        acked = self.load(3, during=shut_down_disk2)
        self.wait_state('disk2', 'degraded')
        self.assertIn('Input/output error', self.volume_status()['disk2']['reason'])
        self.assert_all_stored(acked)
        print(f'acked {len(acked)} across the death of disk2', flush=True)
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_disk_that_stops_answering_is_taken_out(self):
        mount_point = self.loop_member('disk2', '\nio_timeout_seconds = 2')
        self.app.start()
        # Messages first, on new connections until every core's shard has its segment open,
        # so that this test is about the writes (the next one freezes before the opens).
        acked = []
        spool = os.path.join(mount_point, 'spool')
        for _ in range(64):
            acked += send(self.app, 2)
            shards = os.listdir(spool) if os.path.isdir(spool) else []
            if len(shards) == len(os.sched_getaffinity(0)) and all(
                    os.listdir(os.path.join(spool, s)) for s in shards):
                break
        frozen = subprocess.run(['fsfreeze', '-f', mount_point], capture_output=True, text=True)
        if frozen.returncode != 0:
            self.skipTest('fsfreeze: ' + frozen.stderr.strip())
        try:
            # Writes to disk2 now wait for ever; after 2 s it is out and mail flows again.
            acked += send(self.app, 20)
            self.wait_state('disk2', 'degraded')
            self.assertIn('timed out', self.volume_status()['disk2']['reason'])
            acked += send(self.app, 20)
        finally:
            subprocess.run(['fsfreeze', '-u', mount_point], capture_output=True)
        self.assert_all_stored(acked)
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_frozen_disk_holds_up_no_segment_open_or_rotation(self):
        # Frozen before any segment is open, with segments small enough that they rotate
        # while it stays frozen: the opens and fsyncs of a rotation are synchronous calls,
        # bounded by the same timeout as the writes.
        mount_point = self.loop_member('disk2', '\nio_timeout_seconds = 2')
        with open(self.app.profile) as f:
            profile = f.read()
        with open(self.app.profile, 'w') as f:
            f.write(profile.replace('segment_size = "64M"', 'segment_size = "1M"'))
        self.app.start()
        frozen = subprocess.run(['fsfreeze', '-f', mount_point], capture_output=True, text=True)
        if frozen.returncode != 0:
            self.skipTest('fsfreeze: ' + frozen.stderr.strip())
        acked = []
        try:
            for _ in range(6):
                acked += send(self.app, 10, size=100_000)
            self.wait_state('disk2', 'degraded')
            self.assertIn('timed out', self.volume_status()['disk2']['reason'])
        finally:
            subprocess.run(['fsfreeze', '-u', mount_point], capture_output=True)
        self.assertEqual(len(acked), 60)
        self.assert_all_stored(acked)
        self.assertIn('no answer to open', self.app.read_log())
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_members_are_added_and_removed(self):
        app = self.start()
        ids = send(app, 30)
        r = app.ctl('volume', 'add', 'disk3')
        self.assertIn('disk3', r.stdout)
        ids += send(app, 10)
        self.wait_resilvered()
        status = self.volume_status()
        self.assertEqual(sorted(status), ['disk1', 'disk2', 'disk3'])
        self.assertTrue(all(m['state'] == 'healthy' for m in status.values()), status)
        self.assertEqual(app.ctl('volume', 'add', 'disk3', check=False).returncode, 1)
        self.assertEqual(app.stop(), 0, app.read_log())
        disk1 = files_under(os.path.join(self.member('disk1'), 'spool'))
        self.assertEqual(disk1, files_under(os.path.join(self.member('disk3'), 'spool')))
        # The change outlives a restart; then disk1 goes.
        app.start()
        self.assertEqual(sorted(self.volume_status()), ['disk1', 'disk2', 'disk3'])
        app.ctl('volume', 'remove', 'disk1')
        end = time.monotonic() + 10
        while 'disk1' in self.volume_status():
            self.assertLess(time.monotonic(), end, app.read_log())
            time.sleep(0.05)
        ids += send(app, 10)
        self.assertEqual(app.stop(), 0, app.read_log())
        app.start()
        self.assertEqual(sorted(self.volume_status()), ['disk2', 'disk3'])
        self.assertEqual(sorted(m['queue_id'] for m in app.spool_list()), sorted(ids))

    # The configuration store lives on the set too (control/store/volume_vfs.h).
    def store_copy(self, member):
        with open(os.path.join(self.member(member), 'control', 'config.db'), 'rb') as f:
            return f.read()

    def domains(self):
        return sorted(d['name'] for d in json.loads(self.app.ctl('--json', 'domain', 'list').stdout))

    def wait_store_state(self, member, state, deadline=10.0):
        end = time.monotonic() + deadline
        while self.volume_status()[member].get('store', {}).get('state') != state:
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.05)

    def test_store_is_on_both_members_and_scrub_mends_every_damaged_page(self):
        app = self.start()
        for name in ('one.test', 'two.test'):
            app.ctl('domain', 'add', name)
        disk1, disk2 = self.store_copy('disk1'), self.store_copy('disk2')
        self.assertGreater(len(disk1), 4096)
        self.assertEqual(disk1, disk2)
        self.assertFalse(os.path.exists(os.path.join(app.data_dir, 'control', 'config.db')))
        self.assertEqual(self.volume_status()['disk2']['store']['state'], 'healthy')
        # Every page damaged, on one member or the other: nothing is lost, scrub mends all.
        pages = len(disk1) // 4096
        for i, member in enumerate(('disk1', 'disk2')):
            path = os.path.join(self.member(member), 'control', 'config.db')
            with open(path, 'r+b') as f:
                for page in range(i, pages, 2):
                    f.seek(page * 4096 + 300)
                    byte = f.read(1)[0]
                    f.seek(page * 4096 + 300)
                    f.write(bytes([byte ^ 0x10]))
        report = json.loads(app.ctl('--json', 'volume', 'scrub').stdout)['store']
        self.assertEqual(report, {'pages': pages, 'mended': pages, 'unreadable': 0})
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))
        self.assertEqual(self.domains(), ['one.test', 'two.test'])
        # Damage found at start-up: the copy that passes its check is used, and mended from.
        self.assertEqual(app.stop(), 0, app.read_log())
        with open(os.path.join(self.member('disk1'), 'control', 'config.db'), 'r+b') as f:
            f.write(b'garbage')
        app.start()
        self.assertEqual(self.domains(), ['one.test', 'two.test'])
        app.ctl('domain', 'add', 'three.test')
        app.ctl('volume', 'scrub')
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))
        repaired = sum(m['store']['repaired'] for m in self.volume_status().values())
        self.assertGreaterEqual(repaired, 1)

    def test_store_goes_on_without_a_lost_member_and_is_rebuilt_on_it(self):
        app = self.start()
        app.ctl('domain', 'add', 'before.test')
        shutil.rmtree(self.member('disk2'))
        self.wait_store_state('disk2', 'degraded')
        # Both sets say so to monitoring too.
        # (each process writes its file from a thread of its own, a moment after the change)
        for prom, member in (('volume.prom', 'disk2'), ('control/volume.prom', 'disk2/control')):
            wanted = f'member="{self.member(member)}",state="degraded"}} 1'
            deadline = time.monotonic() + 10
            while True:
                with open(os.path.join(app.data_dir, prom)) as f:
                    text = f.read()
                if wanted in text:
                    break
                self.assertLess(time.monotonic(), deadline, text)
                time.sleep(0.05)
        app.ctl('domain', 'add', 'during.test')
        self.assertEqual(self.domains(), ['before.test', 'during.test'])
        app.ctl('volume', 'replace', 'disk2')
        self.wait_resilvered()
        self.wait_store_state('disk2', 'healthy')
        app.ctl('domain', 'add', 'after.test')
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))
        self.assertIn('rebuilt', app.read_log())
        # disk2 alone now holds the whole store.
        self.assertEqual(app.stop(), 0, app.read_log())
        shutil.rmtree(self.member('disk1'))
        app.start()
        self.assertEqual(self.domains(), ['after.test', 'before.test', 'during.test'])

    def test_store_member_that_comes_back_stale_is_never_read(self):
        app = self.start()
        app.ctl('domain', 'add', 'kept.test')
        self.assertEqual(app.stop(), 0, app.read_log())
        shutil.copytree(self.member('disk2'), self.member('disk2.old'))
        app.start()
        # disk2 dies, the store goes on without it, then the old disk comes back.
        shutil.rmtree(self.member('disk2'))
        self.wait_store_state('disk2', 'degraded')
        app.ctl('domain', 'add', 'missed.test')
        self.assertEqual(app.stop(), 0, app.read_log())
        os.rename(self.member('disk2.old'), self.member('disk2'))
        app.start()
        self.assertEqual(self.volume_status()['disk2']['store']['state'], 'stale')
        for _ in range(4):  # reads go to every member they trust: never to disk2
            self.assertEqual(self.domains(), ['kept.test', 'missed.test'])
        app.ctl('volume', 'replace', 'disk2')
        self.wait_resilvered()
        self.wait_store_state('disk2', 'healthy')
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))

    def test_store_kept_in_the_data_directory_moves_onto_the_set(self):
        # One member, the data directory itself: the store is DATA/control/config.db, where
        # versions before the store lived on the set kept it too.
        self.app = Appliance(profile_text=mirror_profile().replace(
            'members = ["disk1", "disk2"]', 'members = ["."]'))
        app = self.app.start()
        app.ctl('domain', 'add', 'kept.test')
        self.assertEqual(app.stop(), 0, app.read_log())
        legacy = os.path.join(app.data_dir, 'control', 'config.db')
        self.assertTrue(os.path.exists(legacy))
        with open(app.profile, 'w') as f:
            f.write(mirror_profile())
        app.start()
        self.assertEqual(self.domains(), ['kept.test'])
        self.assertIn('moved onto the volume set', app.read_log())
        self.assertFalse(os.path.exists(legacy))
        self.assertTrue(os.path.exists(legacy + '.moved-to-volume-set'))
        app.ctl('domain', 'add', 'new.test')
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))
        self.assertEqual(app.stop(), 0, app.read_log())
        app.start()
        self.assertEqual(self.domains(), ['kept.test', 'new.test'])

    def test_store_keeps_every_acknowledged_change_across_kill_9(self):
        """The control plane is killed with -9 while changes pour in, three times; every
        change postcorectl saw acknowledged is there after each restart, and the members'
        copies agree."""
        app = self.start()
        acked, stop = [], threading.Event()

        def writer():
            for i in range(100000):
                if stop.is_set():
                    return
                r = app.ctl('domain', 'add', f'd{i}.test', check=False)
                if r.returncode == 0:
                    acked.append(f'd{i}.test')
        for round_ in range(3):
            thread = threading.Thread(target=writer)
            stop.clear()
            thread.start()
            time.sleep(1.0 + 0.37 * round_)
            control = app.child_pid('postcore-control')
            self.assertIsNotNone(control)
            os.kill(control, signal.SIGKILL)
            stop.set()
            thread.join(60)
            end = time.monotonic() + 20
            while True:
                r = app.ctl('--json', 'domain', 'list', check=False)
                if r.returncode == 0:
                    break
                self.assertLess(time.monotonic(), end, app.read_log())
                time.sleep(0.1)
            listed = {d['name'] for d in json.loads(r.stdout)}
            lost = [d for d in acked if d not in listed]
            self.assertEqual(lost, [], f'{len(lost)} of {len(acked)} acknowledged changes lost')
            acked = sorted(listed)
        print(f'{len(acked)} domains across three kills', flush=True)
        self.assertGreater(len(acked), 0)
        self.assertEqual(app.stop(), 0, app.read_log())
        self.assertEqual(self.store_copy('disk1'), self.store_copy('disk2'))

    def dm_member(self):
        """Puts disk2 on ext4 over a device-mapper `linear` device on a loop device; returns
        the dm name, its size in sectors and the loop device. Skips where that needs what
        this machine lacks (root, loop devices, device-mapper in the kernel)."""
        if os.getuid() != 0:
            self.skipTest('device-mapper needs root')
        self.app = Appliance(profile_text=mirror_profile())
        mount_point = os.path.join(self.app.data_dir, 'disk2')
        os.makedirs(mount_point)
        image = os.path.join(self.app.tmp.name, 'dm.img')
        with open(image, 'wb') as f:
            f.truncate(64 << 20)
        loop = subprocess.run(['losetup', '--find', '--show', image], capture_output=True,
                              text=True)
        if loop.returncode != 0:
            self.skipTest('no loop device: ' + loop.stderr.strip())
        device = loop.stdout.strip()
        name = 'postcore-test-' + str(os.getpid())
        sectors = (64 << 20) // 512
        made = subprocess.run(['dmsetup', 'create', name, '--table',
                               f'0 {sectors} linear {device} 0'], capture_output=True, text=True)
        if made.returncode != 0:
            subprocess.run(['losetup', '-d', device], capture_output=True)
            self.skipTest('device-mapper is not available here: ' +
                          made.stderr.strip().splitlines()[0])

        def undo():
            subprocess.run(['umount', mount_point], capture_output=True)
            subprocess.run(['dmsetup', 'remove', '--force', name], capture_output=True)
            subprocess.run(['losetup', '-d', device], capture_output=True)
        self.undo = [undo]
        mapped = '/dev/mapper/' + name
        subprocess.run(['mkfs.ext4', '-q', mapped], check=True)
        subprocess.run(['mount', mapped, mount_point], check=True)
        return name, sectors, device

    def switch_table(self, name, table):
        subprocess.run(['dmsetup', 'load', name, '--table', table], check=True)
        subprocess.run(['dmsetup', 'resume', name], check=True)

    def test_device_mapper_error_target_under_load(self):
        """disk2's table is switched to the `error` target: every I/O to it fails from then
        on, as a disk that died."""
        name, sectors, _ = self.dm_member()
        self.app.start()
        acked = self.load(3, during=lambda: self.switch_table(name, f'0 {sectors} error'))
        self.wait_state('disk2', 'degraded')
        self.assert_all_stored(acked)
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_device_mapper_flakey_target_under_load(self):
        """disk2's table is switched to the `flakey` target: it works for a second, then
        fails every I/O for a second, and so on, as a disk with a loose cable."""
        name, sectors, device = self.dm_member()
        self.app.start()
        acked = self.load(4, during=lambda: self.switch_table(
            name, f'0 {sectors} flakey {device} 0 1 1'))
        self.wait_state('disk2', 'degraded')
        self.assert_all_stored(acked)
        # Out for good, even though it answers again now and then.
        time.sleep(1.5)
        self.assertEqual(self.volume_status()['disk2']['state'], 'degraded')
        self.assertEqual(self.app.stop(), 0, self.app.read_log())

    def test_member_filling_up_under_load_loses_nothing(self):
        if os.getuid() != 0:
            self.skipTest('mounting a small tmpfs needs root')
        self.app = Appliance(profile_text=mirror_profile().replace(
            'segment_size = "64M"', 'segment_size = "1M"'))
        disk2 = os.path.join(self.app.data_dir, 'disk2')
        os.makedirs(disk2)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk2],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: ' + r.stderr.strip())
        self.undo = [lambda: subprocess.run(['umount', disk2], capture_output=True)]
        self.app.start()
        # 60 messages of 100 KB: 6 MB into a 3 MB member.
        acked = send(self.app, 60, size=100 * 1024)
        self.wait_state('disk2', 'degraded')
        self.assertIn('No space left on device', self.volume_status()['disk2']['reason'])
        self.assertEqual(self.volume_status()['disk1']['state'], 'healthy')
        self.assert_all_stored(acked)
        self.assertEqual(self.app.stop(), 0, self.app.read_log())


if __name__ == '__main__':
    unittest.main()
