"""POP3 against a real `postcore up`, with real clients: Python's poplib and fetchmail
download what smtplib sent, byte for byte after the Return-Path and Received lines the
server adds (dot-stuffed lines and "From " lines included); UIDLs are the same after a
restart; a second session gets [IN-USE]; DELE takes effect at QUIT and only then; a wrong
password gets [AUTH]."""
import os
import poplib
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

from harness import Appliance, SERVICES
from test_delivery import inbox, wait_for

BODY_LINES = [
    'Subject: {token}',
    'Message-ID: <{token}@remote.example>',
    '',
    '.A line that starts with a dot.',
    '..two dots.',
    'From the start of a line, as mbox would quote it.',
    '.',
    'x' * 900,
    'The end.',
]


def message(token):
    return ('\r\n'.join(line.format(token=token) for line in BODY_LINES) + '\r\n').encode()


class Pop3(unittest.TestCase):
    def setUp(self):
        self.app = Appliance(deliver=True).start()
        app = self.app
        app.ctl('domain', 'add', 'example.com')
        app.ctl('account', 'add', 'alice@example.com', '--password', 'alice-pw')
        app.ctl('account', 'add', 'bob@example.com', '--password', 'bob-pw',
                '--services', 'smtp,imap')
        self.sent = {}
        time.sleep(1.5)  # the directory reaches the dataplane
        for i in range(3):
            token = f'msg{i}'
            self.sent[token] = message(token)
            with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                s.sendmail('sender@remote.example', ['alice@example.com'], self.sent[token])
        self.assertEqual(len(wait_for(lambda: len(inbox(app, 'alice@example.com')) == 3 and
                                      inbox(app, 'alice@example.com'))), 3)

    def tearDown(self):
        log = self.app.finish()
        self.assertNotIn('alice-pw', log)

    @property
    def port(self):
        return self.app.port_base + SERVICES['pop3']

    def pop(self, user='alice@example.com', password='alice-pw'):
        p = poplib.POP3('127.0.0.1', self.port, timeout=30)
        p.user(user)
        p.pass_(password)
        return p

    def test_retr_gives_what_smtp_took(self):
        p = self.pop()
        count, size = p.stat()
        self.assertEqual(count, 3)
        stored = inbox(self.app, 'alice@example.com', content=True)
        self.assertEqual(size, sum(m['size'] for m in stored))
        uidls = [line.split()[1].decode() for line in p.uidl()[1]]
        self.assertEqual(uidls, [m['uidl'] for m in stored])
        for n in range(1, 4):
            _, lines, octets = p.retr(n)
            got = b'\r\n'.join(lines) + b'\r\n'
            self.assertEqual(got, stored[n - 1]['content'].encode())
            self.assertTrue(got.startswith(b'Return-Path: <sender@remote.example>\r\n'))
            self.assertTrue(got.endswith(self.sent[f'msg{n - 1}']))
        _, top, _ = p.top(1, 2)
        # poplib takes the dot-stuffing off again.
        self.assertEqual(top[-2:], [b'.A line that starts with a dot.', b'..two dots.'])
        p.quit()

    def test_one_session_at_a_time_and_deletes_only_at_quit(self):
        p = self.pop()
        with self.assertRaises(poplib.error_proto) as cm:
            self.pop()
        self.assertIn(b'[IN-USE]', cm.exception.args[0])
        p.dele(1)
        # A dropped connection deletes nothing and lets the maildrop go.
        p.sock.shutdown(socket.SHUT_RDWR)
        p.sock.close()
        p = wait_for(lambda: self.try_pop(), 10)
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        p.quit()
        p = self.pop()
        self.assertEqual(p.stat()[0], 2)
        subjects = [p.top(n, 0)[1] for n in (1, 2)]
        self.assertIn(b'Subject: msg0', subjects[0])
        self.assertIn(b'Subject: msg2', subjects[1])
        p.quit()
        self.assertEqual(len(inbox(self.app, 'alice@example.com')), 2)

    def try_pop(self):
        try:
            return self.pop()
        except poplib.error_proto:
            return None

    def test_uidls_survive_a_restart(self):
        p = self.pop()
        before = p.uidl()[1]
        p.quit()
        self.assertEqual(self.app.stop(), 0, self.app.read_log())
        self.app.start()
        p = wait_for(lambda: self.try_pop(), 10)
        self.assertEqual(p.uidl()[1], before)
        p.quit()

    def test_wrong_password_and_service_are_refused(self):
        with self.assertRaises(poplib.error_proto) as cm:
            self.pop(password='wrong-pw')
        self.assertIn(b'[AUTH]', cm.exception.args[0])
        with self.assertRaises(poplib.error_proto) as cm:
            self.pop('bob@example.com', 'bob-pw')  # POP not among bob's services
        self.assertIn(b'[AUTH]', cm.exception.args[0])
        p = poplib.POP3('127.0.0.1', self.port, timeout=30)
        capa = p.capa()
        for name in ('TOP', 'UIDL', 'USER', 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE', 'SASL'):
            self.assertIn(name, capa)
        p.quit()

    @unittest.skipUnless(shutil.which('fetchmail'), 'fetchmail is not installed')
    def test_fetchmail_downloads_everything(self):
        tmp = self.app.tmp.name
        out = os.path.join(tmp, 'fetched.mbox')
        rc = os.path.join(tmp, 'fetchmailrc')
        with open(rc, 'w') as f:
            f.write(f'poll 127.0.0.1 service {self.port} protocol pop3 uidl auth password\n'
                    f'  user "alice@example.com" password "alice-pw" is "tester" here\n'
                    f'  keep sslproto "" mda "cat >> {out}"\n')
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=tmp, FETCHMAILHOME=tmp)
        r = subprocess.run(['fetchmail', '--nodetach', '--nosyslog', '-f', rc],
                           capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, 'rb') as f:
            fetched = f.read()
        for token, data in self.sent.items():
            # The MDA gets LF line ends; the message as smtplib sent it, dots unstuffed.
            self.assertIn(data.replace(b'\r\n', b'\n'), fetched, token)
        # A second run with the same UIDLs fetches nothing new.
        r = subprocess.run(['fetchmail', '--nodetach', '--nosyslog', '-f', rc],
                           capture_output=True, text=True, env=env, timeout=120)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)  # 1: no new mail
        with open(out, 'rb') as f:
            self.assertEqual(f.read(), fetched)


if __name__ == '__main__':
    unittest.main()
