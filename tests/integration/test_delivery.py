"""Local delivery against a real `postcore up`: mail accepted over SMTP reaches the
mailboxes of its local recipients (accounts, aliases, groups, copies), stored once per
owning core, with Return-Path added and the rest byte-identical; the spool lets go of it;
remote targets stay queued; UIDs and UIDLs are the same after a restart; held mail goes
out once the hold is lifted. (test_delivery_crash.py kills the dataplane mid-delivery.)"""
import json
import os
import smtplib
import subprocess
import time
import unittest

from harness import Appliance, POSTCORE


def owner(account, cores):
    """The core that owns an account: FNV-1a of the address, as MailCores does it."""
    h = 14695981039346656037
    for b in account.encode():
        h ^= b
        h = (h * 1099511628211) % (1 << 64)
    return h % cores


def mailbox(app, account, content=False):
    args = [POSTCORE, 'mailbox', 'list', account, '--json', '--data-dir', app.data_dir]
    if content:
        args.append('--content')
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def inbox(app, account, content=False):
    listed = mailbox(app, account, content)
    if not listed:
        return []
    return next((f['messages'] for f in listed['folders'] if f['name'] == 'INBOX'), [])


def stats(app):
    r = subprocess.run([POSTCORE, 'mailbox', 'stats', '--json', '--data-dir', app.data_dir],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def message(token, extra=''):
    return (f'From: sender@remote.example\r\nTo: alice@example.com\r\nSubject: {token}\r\n'
            f'Message-ID: <{token}@remote.example>\r\n\r\n'
            f'Body of {token}.\r\n.A line that starts with a dot.\r\nFrom the start of a line.\r\n'
            f'{extra}').encode()


class Delivery(unittest.TestCase):
    def setUp(self):
        self.app = Appliance(deliver=True).start()
        app = self.app
        app.ctl('domain', 'add', 'example.com', '--alias', 'example.net')
        for name in ('alice', 'bob', 'carol'):
            app.ctl('account', 'add', f'{name}@example.com', '--password', f'{name}-pw')
        app.ctl('alias', 'add', 'al@example.com', 'alice')
        app.ctl('group', 'add', 'team@example.com', '--member', 'bob@example.com',
                '--member', 'carol@example.com', '--member', 'someone@elsewhere.example')
        # The directory reaches the dataplane within a second.
        wait_for(lambda: self.rcpt_ok('team@example.com'), 10)

    def tearDown(self):
        self.app.finish()

    def rcpt_ok(self, address):
        with smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30) as s:
            s.ehlo('client.example')
            s.mail('probe@remote.example')
            code = s.rcpt(address)[0]
            s.rset()
            return code == 250

    def send(self, recipients, data):
        with smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30) as s:
            s.ehlo('client.example')
            refused = s.sendmail('sender@remote.example', recipients, data)
            self.assertEqual(refused, {})

    def test_mail_reaches_every_local_mailbox_once(self):
        data = message('first')
        self.send(['al@example.com', 'alice@example.net', 'team@example.com'], data)
        for account in ('alice@example.com', 'bob@example.com', 'carol@example.com'):
            got = wait_for(lambda: inbox(self.app, account, content=True))
            self.assertEqual(len(got), 1, account)
            m = got[0]
            self.assertEqual(m['uid'], 1)
            content = m['content'].encode()
            self.assertTrue(content.startswith(b'Return-Path: <sender@remote.example>\r\n'))
            self.assertTrue(content.endswith(data), content)
            self.assertIn(b'\r\nReceived: ', content)
            self.assertEqual(m['size'], len(content))
        # alice was named twice (alias and domain alias): one copy in her mailbox, above.
        # One stored copy per core that owns some of the mailboxes.
        cores = {owner(a, 2) for a in ('alice@example.com', 'bob@example.com',
                                       'carol@example.com')}
        self.assertEqual(stats(self.app)['stored_messages'], len(cores))
        # The group's outside member stays queued for relaying; nothing else does.
        def only_remote_left():
            listed = self.app.spool_list()
            return len(listed) == 1 and listed
        listed = wait_for(only_remote_left)
        self.assertTrue(listed, self.app.spool_list())
        done = [r.get('done', False) for r in listed[0]['recipients']]
        self.assertEqual(done, [True, True, False], listed)

    def test_spool_lets_go_and_uids_survive_a_restart(self):
        for i in range(30):
            self.send(['bob@example.com'], message(f'm{i}', ('x' * 70 + '\r\n') * i))
        got = wait_for(lambda: len(inbox(self.app, 'bob@example.com')) == 30 and
                       inbox(self.app, 'bob@example.com'))
        self.assertEqual(len(got), 30)
        self.assertEqual([m['uid'] for m in got], list(range(1, 31)))
        self.assertTrue(wait_for(lambda: self.app.spool_list() == [] or None), 'spool not drained')
        before = mailbox(self.app, 'bob@example.com')
        self.assertEqual(self.app.stop(), 0, self.app.read_log())
        self.app.start()
        self.assertEqual(mailbox(self.app, 'bob@example.com'), before)
        self.assertIn('core 0 mail store:', self.app.read_log())
        # New mail continues the UIDs, and the UIDLs of the old ones are unchanged.
        self.send(['bob@example.com'], message('after'))
        got = wait_for(lambda: len(inbox(self.app, 'bob@example.com')) == 31 and
                       inbox(self.app, 'bob@example.com'))
        self.assertEqual(got[-1]['uid'], 31)
        self.assertEqual([m['uidl'] for m in got[:30]],
                         [m['uidl'] for m in before['folders'][0]['messages']])


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except FileNotFoundError:
                pass  # reclaimed meanwhile
    return total


class Verify(unittest.TestCase):
    def test_verify_reads_every_record_and_names_damage(self):
        app = Appliance(deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'ivy@example.com', '--password', 'ivy-pw')
            time.sleep(1.5)
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                for i in range(5):
                    s.sendmail('x@remote.example', ['ivy@example.com'], message(f'v{i}'))
            self.assertEqual(len(wait_for(lambda: len(inbox(app, 'ivy@example.com')) == 5 and
                                          inbox(app, 'ivy@example.com'))), 5)
            self.assertEqual(app.stop(), 0, app.read_log())

            def verify():
                r = subprocess.run([POSTCORE, 'mailbox', 'verify', '--json', '--data-dir',
                                    app.data_dir], capture_output=True, text=True)
                return r.returncode, json.loads(r.stdout), r.stderr
            rc, report, _ = verify()
            self.assertEqual(rc, 0, report)
            self.assertTrue(report['ok'])
            self.assertGreaterEqual(report['log']['messages'], 5)
            self.assertGreaterEqual(report['blob']['messages'], 1)
            # One flipped byte inside a stored message is found and named.
            blob_root = os.path.join(app.data_dir, 'mail', 'blob')
            segment = next(os.path.join(root, f) for root, _, files in os.walk(blob_root)
                           for f in files if f.endswith('.log'))
            with open(segment, 'r+b') as f:
                f.seek(300)
                byte = f.read(1)
                f.seek(300)
                f.write(bytes([byte[0] ^ 0x40]))
            rc, report, err = verify()
            self.assertEqual(rc, 1)
            self.assertFalse(report['ok'])
            self.assertIn(segment, json.dumps(report['blob']['problems']))
            self.assertIn('corruption found', err)
            app.start()  # a damaged copy is refused, never served: the others still are
        finally:
            app.finish()


class SpoolReclaim(unittest.TestCase):
    def test_spool_disk_use_drops_after_delivery(self):
        with open(os.path.join(os.path.dirname(__file__), '..', '..', 'hwprofiles',
                               'dev.toml')) as f:
            profile = f.read().replace('segment_size = "64M"', 'segment_size = "1M"')
        app = Appliance(profile_text=profile, deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'erin@example.com', '--password', 'erin-pw')
            time.sleep(1.5)
            body = ('y' * 76 + '\r\n') * 1300  # about 100 KB
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                for i in range(60):
                    s.sendmail('x@remote.example', ['erin@example.com'],
                               message(f'big{i}', body))
            self.assertEqual(len(wait_for(lambda: len(inbox(app, 'erin@example.com')) == 60 and
                                          inbox(app, 'erin@example.com'))), 60)
            spool = os.path.join(app.data_dir, 'spool')
            # Sealed segments whose messages are all delivered go within seconds; what is
            # left is at most the segment still being written on each core.
            dropped = wait_for(lambda: tree_bytes(spool) < 2 * (1 << 20) + 65536 or None, 30)
            print(f'sent {60 * len(body)} bytes; spool now {tree_bytes(spool)} bytes; mailbox '
                  f'{stats(app)["bytes"]} bytes', flush=True)
            self.assertTrue(dropped, tree_bytes(spool))
            self.assertIn('segments of delivered mail reclaimed', app.read_log())
        finally:
            app.finish()


class Quota(unittest.TestCase):
    def test_over_quota_mail_waits_and_a_full_mailbox_is_refused_at_rcpt(self):
        app = Appliance(deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'fay@example.com', '--password', 'fay-pw',
                    '--quota', '10K')
            app.ctl('account', 'add', 'gus@example.com', '--password', 'gus-pw')
            time.sleep(1.5)
            six_kb = ('z' * 76 + '\r\n') * 78

            def send(to, token, body=six_kb):
                with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                    s.ehlo('client.example')
                    s.mail('x@remote.example')
                    code, text = s.rcpt(to)
                    if code != 250:
                        return code, text
                    s.data(message(token, body))
                    return code, text

            self.assertEqual(send('fay@example.com', 'q1')[0], 250)
            self.assertEqual(len(wait_for(lambda: inbox(app, 'fay@example.com'))), 1)
            # 6 KB more would go over 10 KB: taken, and kept in the spool, not delivered.
            self.assertEqual(send('fay@example.com', 'q2')[0], 250)
            self.assertTrue(wait_for(lambda: 'over quota; tried again' in app.read_log(), 10),
                            app.read_log()[-3000:])
            self.assertEqual(len(inbox(app, 'fay@example.com')), 1)
            listed = app.spool_list()
            self.assertEqual(len(listed), 1)
            self.assertEqual(listed[0]['recipients'][0]['address'], 'fay@example.com')
            # A full mailbox: RCPT gets 452 4.2.2 and the sender keeps the message.
            self.assertEqual(send('gus@example.com', 'g1', six_kb * 2)[0], 250)
            self.assertEqual(len(wait_for(lambda: inbox(app, 'gus@example.com'))), 1)
            app.ctl('account', 'set', 'gus@example.com', '--quota', '10K')
            time.sleep(1.5)
            code, text = send('gus@example.com', 'g2')
            self.assertEqual(code, 452, text)
            self.assertIn(b'4.2.2', text)
            # Raising the quota lets the waiting message in at its next try.
            app.ctl('account', 'set', 'fay@example.com', '--quota', '1M')
            self.assertEqual(app.stop(), 0, app.read_log())
            app.start()
            self.assertEqual(len(wait_for(lambda: len(inbox(app, 'fay@example.com')) == 2 and
                                          inbox(app, 'fay@example.com'))), 2)
        finally:
            app.finish()


def quick_retry_profile():
    """dev.toml with retries every second and the over-quota wait cut to 2 s."""
    with open(os.path.join(os.path.dirname(__file__), '..', '..', 'hwprofiles', 'dev.toml')) as f:
        profile = f.read()
    for old, new in (('retry_seconds = 60 ', 'retry_seconds = 1 '),
                     ('over_quota_bounce_after_seconds = 86400 ',
                      'over_quota_bounce_after_seconds = 2 ')):
        assert old in profile, old
        profile = profile.replace(old, new)
    return profile


class QuotaTimeout(unittest.TestCase):
    def test_retries_never_give_a_mailbox_a_second_copy(self):
        """jo is named directly and through a group whose other member is full: every
        retry for the full member leaves jo with the one copy she got first."""
        app = Appliance(profile_text=quick_retry_profile(), deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'jo@example.com', '--password', 'jo-pw')
            app.ctl('account', 'add', 'kim@example.com', '--password', 'kim-pw', '--quota', '1K')
            app.ctl('group', 'add', 'grp@example.com', '--member', 'jo@example.com',
                    '--member', 'kim@example.com')
            time.sleep(1.5)
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                s.sendmail('x@remote.example', ['jo@example.com', 'grp@example.com'],
                           message('twice', ('v' * 76 + '\r\n') * 40))
            self.assertTrue(wait_for(lambda: app.read_log().count('over quota') >= 3, 20),
                            app.read_log()[-3000:])
            self.assertEqual(len(inbox(app, 'jo@example.com')), 1)
            self.assertEqual(inbox(app, 'kim@example.com'), [])
            listed = app.spool_list()
            self.assertEqual([r.get('done', False) for r in listed[0]['recipients']],
                             [True, False])
        finally:
            app.finish()

    def test_mail_over_quota_for_too_long_waits_for_a_bounce(self):
        app = Appliance(profile_text=quick_retry_profile(), deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'hal@example.com', '--password', 'hal-pw', '--quota', '1K')
            time.sleep(1.5)
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                s.sendmail('x@remote.example', ['hal@example.com'],
                           message('big', ('w' * 76 + '\r\n') * 40))
            self.assertTrue(wait_for(lambda: 'waiting for a bounce' in app.read_log(), 20),
                            app.read_log()[-3000:])
            self.assertEqual(inbox(app, 'hal@example.com'), [])
            self.assertEqual(len(app.spool_list()), 1)
        finally:
            app.finish()


class DeliveryAfterHold(unittest.TestCase):
    def test_held_mail_is_delivered_after_the_hold_is_lifted(self):
        app = Appliance().start()  # on hold
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'dora@example.com', '--password', 'dora-pw')
            time.sleep(1.5)
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                s.sendmail('x@remote.example', ['dora@example.com'], message('held'))
            time.sleep(1)
            self.assertEqual(len(app.spool_list()), 1)
            self.assertEqual(inbox(app, 'dora@example.com'), [])
            self.assertIn('local delivery is on hold', app.read_log())
            self.assertEqual(app.stop(), 0, app.read_log())
            with open(app.profile) as f:
                profile = f.read()
            with open(app.profile, 'w') as f:
                f.write(profile.replace('hold = true', 'hold = false'))
            app.start()
            got = wait_for(lambda: inbox(app, 'dora@example.com'))
            self.assertEqual(len(got), 1)
            self.assertTrue(wait_for(lambda: app.spool_list() == [] or None))
        finally:
            app.finish()


if __name__ == '__main__':
    unittest.main()
