"""The control plane against a real `postcore up`: postcorectl changes the directory,
SMTP RCPT answers follow within a second, the dataplane keeps answering when the control
plane dies, and the admin socket refuses outsiders and malformed messages."""
import os
import signal
import smtplib
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import Appliance, POSTCORECTL


def rcpt(app, address):
    with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
        s.ehlo('client.example')
        s.mail('sender@outside.example')
        return s.rcpt(address)[0]


def wait_rcpt(app, address, code, deadline=5.0):
    """Polls until RCPT gets `code`; returns the seconds it took (the change's latency)."""
    start = time.monotonic()
    while True:
        got = rcpt(app, address)
        if got == code:
            return time.monotonic() - start
        if time.monotonic() - start > deadline:
            raise AssertionError(f'RCPT {address}: still {got}, expected {code}')
        time.sleep(0.05)


class ControlPlane(unittest.TestCase):
    def setUp(self):
        self.app = Appliance().start()

    def tearDown(self):
        self.app.finish()

    def test_rcpt_follows_every_change(self):
        app = self.app
        app.ctl('domain', 'add', 'example.com', '--alias', 'example.net')
        latencies = []
        app.ctl('account', 'add', 'alice@example.com', '--real-name', 'Alice', '--password', 'pw')
        latencies.append(wait_rcpt(app, 'alice@example.com', 250))
        self.assertEqual(rcpt(app, 'ALICE@example.NET'), 250)  # domain alias, any case
        self.assertEqual(rcpt(app, 'nobody@example.com'), 550)
        app.ctl('alias', 'add', 'al@example.com', 'alice')
        latencies.append(wait_rcpt(app, 'al@example.com', 250))
        app.ctl('forwarder', 'add', 'fw@example.com', 'someone@elsewhere.example')
        latencies.append(wait_rcpt(app, 'fw@example.com', 250))
        app.ctl('account', 'add', 'carol@example.com', '--services', 'imap')
        latencies.append(wait_rcpt(app, 'carol@example.com', 550))
        app.ctl('group', 'add', 'team@example.com', '--member', 'alice@example.com',
                '--member', 'carol@example.com')
        latencies.append(wait_rcpt(app, 'team@example.com', 250))
        self.assertEqual(rcpt(app, 'x@elsewhere.example'), 554)
        app.ctl('account', 'remove', 'alice@example.com')
        latencies.append(wait_rcpt(app, 'al@example.com', 550))  # its alias went with it
        print(f'change-to-RCPT latencies (s): {", ".join(f"{l:.2f}" for l in latencies)}')

    def test_expansion_is_stored_with_the_envelope(self):
        app = self.app
        app.ctl('domain', 'add', 'example.com', '--alias', 'example.net')
        app.ctl('account', 'add', 'alice@example.com')
        app.ctl('account', 'add', 'bob@example.com')
        app.ctl('alias', 'add', 'al@example.com', 'alice')
        app.ctl('forwarder', 'add', 'fw@example.com', 'Someone@Elsewhere.example')
        app.ctl('group', 'add', 'inner@example.com', '--member', 'bob@example.com',
                '--member', 'al@example.com')
        app.ctl('group', 'add', 'team@example.com', '--member', 'alice@example.com',
                '--member', 'fw@example.com', '--member', 'inner@example.com')
        wait_rcpt(app, 'team@example.com', 250)
        with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
            s.sendmail('sender@outside.example', ['AL@example.net', 'team@example.com'],
                       b'Subject: expansion\r\n\r\nhello\r\n')
        messages = app.spool_list()
        self.assertEqual(len(messages), 1)
        got = {r['address']: [(t['kind'], t['address']) for t in r['targets']]
               for r in messages[0]['recipients']}
        self.assertEqual(got, {
            'AL@example.net': [('local', 'alice@example.com')],
            'team@example.com': [('local', 'alice@example.com'),
                                 ('remote', 'Someone@elsewhere.example'),
                                 ('local', 'bob@example.com')],
        })

    def test_group_cycle_refused_with_the_cycle_named(self):
        app = self.app
        app.ctl('domain', 'add', 'example.com')
        app.ctl('group', 'add', 'a@example.com')
        app.ctl('group', 'add', 'b@example.com', '--member', 'a@example.com')
        r = app.ctl('group', 'members', 'add', 'a@example.com', 'b@example.com', check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         'postcorectl: group cycle: a@example.com → b@example.com → a@example.com')
        self.assertEqual(app.ctl('--json', 'group', 'show', 'a@example.com').stdout.count('@'), 1)

    def test_exit_statuses(self):
        app = self.app
        r = app.ctl('account', 'show', 'nobody@example.com', check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = app.ctl('account', 'add', 'not an address', check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        r = app.ctl('domain', 'frobnicate', check=False)
        self.assertEqual(r.returncode, 2)
        down = subprocess.run([POSTCORECTL, '--data-dir', '/nonexistent', 'status'],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(down.returncode, 3)
        self.assertIn('is `postcore up` running?', down.stderr)

    def test_dataplane_answers_from_its_snapshot_while_control_is_dead(self):
        app = self.app
        app.ctl('domain', 'add', 'example.com')
        app.ctl('account', 'add', 'alice@example.com')
        wait_rcpt(app, 'alice@example.com', 250)
        acked, stop = [], threading.Event()

        def load():
            while not stop.is_set() and len(acked) < 3000:
                try:
                    with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=10) as s:
                        for _ in range(20):
                            # sendmail raises unless the message got its 250.
                            s.sendmail('a@outside.example', ['alice@example.com'],
                                       b'Subject: x\r\n\r\nbody\r\n')
                            acked.append(1)
                            time.sleep(0.01)
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)

        t = threading.Thread(target=load, daemon=True)
        t.start()
        time.sleep(0.5)
        control = app.child_pid('postcore-control')
        self.assertIsNotNone(control)
        os.kill(control, signal.SIGKILL)
        # RCPT keeps answering from the last snapshot while the control plane is gone.
        for _ in range(5):
            self.assertEqual(rcpt(app, 'alice@example.com'), 250)
            self.assertEqual(rcpt(app, 'nobody@example.com'), 550)
        # The supervisor restarts it; its next change reaches the dataplane.
        deadline = time.monotonic() + 30
        while app.ctl('status', check=False).returncode != 0:
            self.assertLess(time.monotonic(), deadline, app.read_log())
            time.sleep(0.1)
        app.ctl('account', 'add', 'bob@example.com')
        wait_rcpt(app, 'bob@example.com', 250)
        stop.set()
        t.join(30)
        spooled = len(app.spool_list())
        self.assertGreater(len(acked), 0)
        self.assertGreaterEqual(spooled, len(acked))
        print(f'acked {len(acked)} / spooled {spooled} across the control plane kill')

    def test_socket_refuses_outsiders_and_malformed_messages(self):
        app = self.app
        sock_path = os.path.join(app.data_dir, 'control.sock')
        self.assertEqual(os.stat(sock_path).st_mode & 0o777, 0o660)
        if os.getuid() == 0:
            def as_nobody():
                os.setgid(65534)
                os.setuid(65534)
            os.chmod(app.data_dir, 0o755)
            r = app.ctl('status', check=False, preexec_fn=as_nobody)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('permission denied', r.stderr)
        # Truncated and oversized frames: refused, and the control plane keeps serving.
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock_path)
            s.sendall(struct.pack('>I', 100) + b'\x01{"cmd"')
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock_path)
            s.sendall(struct.pack('>I', 1 << 30))
            reply = s.recv(4096)
            self.assertIn(b'"invalid"', reply)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock_path)
            body = b'\x01{"cmd":"status"} trailing'
            s.sendall(struct.pack('>I', len(body)) + body)
            self.assertIn(b'"invalid"', s.recv(4096))
        self.assertEqual(app.ctl('status').returncode, 0)
        self.assertIsNotNone(app.child_pid('postcore-control'))


if __name__ == '__main__':
    unittest.main()
