"""Recovery of a mirrored spool (hwprofiles/dev-mirror.toml) when the members' copies
disagree after a crash: the whole appliance is killed with -9 with no traffic in flight,
then one member's copy of the segment being written is damaged as a dying disk would
leave it, and the appliance starts again. Every acknowledged message must be there,
byte-identical, none twice. Each case prints acked / found / lost / duplicated."""
import json
import os
import shutil
import signal
import smtplib
import time
import unittest

from harness import Appliance, assert_spool_holds
from test_mirror import mirror_profile

MESSAGES = 200


def send(app, n, tag):
    """Sends n messages over one session; returns {queue id: bytes sent} for every 250."""
    acked = {}
    with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
        s.ehlo('client.example')
        for i in range(n):
            data = (f'From: a@outside.example\r\nTo: someone@example.test\r\n'
                    f'Subject: {tag} {i}\r\n\r\n' + f'{tag} {i}\r\n' * (5 + i % 90)).encode()
            s.mail('a@outside.example')
            s.rcpt('someone@example.test')
            code, resp = s.data(data)
            if code == 250:
                acked[resp.decode().split()[-1]] = data
    return acked


def kill_everything(app):
    """kill -9 of the supervisor and both of its children, with nothing left to restart
    them or to seal anything on the way out."""
    dataplane = app.dataplane_pid()
    control = app.child_pid('postcore-control')
    os.kill(app.proc.pid, signal.SIGSTOP)  # no restart of the children it is about to lose
    for pid in (dataplane, control):
        if pid:
            os.kill(pid, signal.SIGKILL)
    os.kill(app.proc.pid, signal.SIGKILL)
    app.proc.wait(30)
    app.log.close()


def unsealed_segments(member_root):
    """Segment files without an index: the ones that were being written."""
    out = []
    spool = os.path.join(member_root, 'spool')
    for shard in sorted(os.listdir(spool)):
        names = set(os.listdir(os.path.join(spool, shard)))
        for name in sorted(names):
            if name.endswith('.log') and name[:-4] + '.idx' not in names:
                path = os.path.join(spool, shard, name)
                if os.path.getsize(path) > 0:
                    out.append(path)
    return out


def shorten(path, by):
    size = os.path.getsize(path)
    os.truncate(path, max(0, size - by))


def flip(path, at, bit=3):
    with open(path, 'r+b') as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ (1 << bit)]))


class Recovery(unittest.TestCase):
    def setUp(self):
        self.app = Appliance(profile_text=mirror_profile()).start()

    def tearDown(self):
        if self.app.proc and self.app.proc.poll() is None:
            self.app.finish()
        else:
            self.app.tmp.cleanup()

    def member(self, name):
        return os.path.join(self.app.data_dir, name)

    def check(self, acked, label):
        assert_spool_holds(self, self.app, acked, label)

    def assert_copies_identical(self):
        for path in unsealed_segments(self.member('disk1')) + unsealed_segments(self.member('disk2')):
            self.fail(f'{path} is still unsealed after recovery')
        spool1 = os.path.join(self.member('disk1'), 'spool')
        for dirpath, _, names in os.walk(spool1):
            for name in names:
                a = os.path.join(dirpath, name)
                b = os.path.join(self.member('disk2'), os.path.relpath(a, self.member('disk1')))
                with open(a, 'rb') as fa, open(b, 'rb') as fb:
                    self.assertEqual(fa.read(), fb.read(), os.path.relpath(a, spool1))

    def crash_damage_restart(self, damage, acked=None):
        """Sends MESSAGES more, crashes, damages, restarts; checks these and `acked`."""
        acked = dict(acked or {})
        sent = send(self.app, MESSAGES, 'recovery')
        self.assertEqual(len(sent), MESSAGES)
        acked.update(sent)
        kill_everything(self.app)
        damage()
        self.app.start()
        self.check(acked, damage.__doc__)
        self.assertEqual(self.app.stop(), 0, self.app.read_log())
        self.assert_copies_identical()
        self.app.start()
        self.check(acked, damage.__doc__ + ', after a clean restart')
        return acked

    def test_a_copy_short_of_its_last_write_on_either_member(self):
        acked = {}
        for member in ('disk2', 'disk1'):
            with self.subTest(member=member):
                def lost_last_write():
                    segments = unsealed_segments(self.member(member))
                    self.assertTrue(segments)
                    for path in segments:
                        shorten(path, 1500)
                lost_last_write.__doc__ = f'{member} short of its last 1500 bytes'
                acked = self.crash_damage_restart(lost_last_write, acked)

    def test_a_torn_final_write_on_one_member_and_bit_rot_in_the_others_earlier_record(self):
        def torn_and_rotted():
            """disk2's final write torn, disk1's copy rotted half way"""
            for path in unsealed_segments(self.member('disk2')):
                shorten(path, 700)
            for path in unsealed_segments(self.member('disk1')):
                flip(path, os.path.getsize(path) // 2)
        self.crash_damage_restart(torn_and_rotted)
        self.assertEqual({m['state'] for m in self.volume_status()}, {'healthy'})

    def test_a_member_restored_from_an_older_snapshot_of_the_same_generation(self):
        """A generation changes only when a member drops out; a disk put back from a snapshot
        taken while it was healthy carries the current generation. The spool still finds
        what it lacks: its copy of the segment being written is shorter (mended from the
        other), and a segment it does not have at all takes it out of the set."""
        first = send(self.app, MESSAGES // 2, 'before')
        kill_everything(self.app)
        snapshot = os.path.join(self.app.tmp.name, 'disk2-snapshot')
        shutil.copytree(self.member('disk2'), snapshot, symlinks=True)
        self.app.start()
        second = send(self.app, MESSAGES // 2, 'after')
        kill_everything(self.app)
        shutil.rmtree(self.member('disk2'))
        shutil.copytree(snapshot, self.member('disk2'), symlinks=True)
        self.app.start()
        acked = dict(first)
        acked.update(second)
        self.check(acked, 'disk2 restored from a snapshot')
        # disk2 lacks the segment written after the snapshot: opened there, it is not found,
        # and disk2 is taken out rather than trusted.
        status = {os.path.basename(m['root']): m['state'] for m in self.volume_status()}
        self.assertEqual(status, {'disk1': 'healthy', 'disk2': 'degraded'}, status)

    def test_shards_left_by_a_larger_core_count_are_recovered(self):
        """Two cores write two shards; after a crash the machine comes back with one core.
        That core keeps shard 1 too: its unsealed segment is recovered and sealed, and its
        messages stay in the spool."""
        with open(self.app.profile) as f:
            profile = f.read()
        self.assertIn('cores = 0', profile)
        with open(self.app.profile, 'w') as f:
            f.write(profile.replace('cores = 0', 'cores = 2'))
        self.app.stop()
        self.app.start()
        acked = {}
        shard1 = os.path.join(self.member('disk1'), 'spool', 'shard-001')
        def shard1_written():
            return [p for p in unsealed_segments(self.member('disk1')) if p.startswith(shard1)]
        for session in range(40):  # each session lands on one core, chosen by the kernel
            acked.update(send(self.app, 10, f'shard{session}'))
            if shard1_written():
                break
        self.assertTrue(shard1_written(), 'no session reached core 1')
        kill_everything(self.app)
        with open(self.app.profile, 'w') as f:
            f.write(profile.replace('cores = 0', 'cores = 1'))
        self.app.start()
        self.check(acked, 'two shards kept by one core')
        self.assertIn('keeps spool shard 1', self.app.read_log())
        self.assertEqual(self.app.stop(), 0, self.app.read_log())
        self.assert_copies_identical()  # shard 1's segment is sealed too
        self.app.start()

    def volume_status(self):
        return json.loads(self.app.ctl('--json', 'volume', 'status').stdout)['members']


if __name__ == '__main__':
    unittest.main()
