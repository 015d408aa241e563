"""Real SMTP clients against a real `postcore up`: smtplib, swaks and Postfix's
smtp-source. Every accepted message must be in the spool exactly once."""
import os
import shutil
import smtplib
import socket
import subprocess
import time
import unittest
from email.message import EmailMessage

from harness import Appliance, POSTCORE


def spool_ids(app):
    return [m['queue_id'] for m in app.spool_list()]


def rcpts(m):
    return [r['address'] for r in m['recipients']]


class SmtpClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.finish()

    def connect(self):
        return smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30)

    def test_smtplib_message_is_spooled_once(self):
        before = set(spool_ids(self.app))
        msg = EmailMessage()
        msg['From'] = 'alice@sender.example'
        msg['To'] = 'bob@example.test'
        msg['Subject'] = 'hello'
        body = 'line one\n.leading dot\nlast line\n'
        msg.set_content(body)
        with self.connect() as s:
            code, caps = s.ehlo('client.example')
            self.assertEqual(code, 250)
            for ext in ('pipelining', 'size', '8bitmime', 'enhancedstatuscodes', 'chunking',
                        'smtputf8', 'dsn'):
                self.assertTrue(s.has_extn(ext), ext)
            s.send_message(msg)
            code, resp = s.noop()
            self.assertEqual(code, 250)
        new = [m for m in self.app.spool_list() if m['queue_id'] not in before]
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]['mail_from'], 'alice@sender.example')
        self.assertEqual(rcpts(new[0]), ['bob@example.test'])
        shown = self.app.spool('show', new[0]['queue_id'])
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn('\n.leading dot', shown.stdout.replace('\r\n', '\n'))
        self.assertIn('Received: from client.example', shown.stdout)
        self.assertIn(new[0]['queue_id'], shown.stdout)

    def test_250_names_the_queue_id(self):
        with self.connect() as s:
            s.ehlo('client.example')
            s.mail('a@sender.example')
            s.rcpt('b@example.test')
            code, resp = s.data(b'Subject: x\r\n\r\nbody\r\n')
            self.assertEqual(code, 250)
        qid = resp.decode().split()[-1]
        self.assertIn(qid, spool_ids(self.app))

    def test_smtputf8(self):
        msg = EmailMessage()
        msg['From'] = 'jösé@sender.example'
        msg['To'] = 'zoë@example.test'
        msg['Subject'] = 'grüße'
        msg.set_content('Grüße aus Köln\n')
        with self.connect() as s:
            s.ehlo('client.example')
            # smtplib adds SMTPUTF8 and BODY=8BITMIME itself for a non-ASCII address.
            refused = s.send_message(msg)
            self.assertEqual(refused, {})
        found = [m for m in self.app.spool_list() if rcpts(m) == ['zoë@example.test']]
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]['mail_from'], 'jösé@sender.example')
        self.assertTrue(found[0]['smtputf8'])

    def test_no_open_relay(self):
        with self.connect() as s:
            s.ehlo('client.example')
            s.mail('a@sender.example')
            code, resp = s.rcpt('victim@elsewhere.example')
            self.assertEqual(code, 554)
            self.assertTrue(resp.startswith(b'5.7.1'), resp)
            code, _ = s.rcpt('postmaster')
            self.assertEqual(code, 250)
            code, _ = s.rcpt('postmaster@localhost')
            self.assertEqual(code, 250)

    def test_size_limit(self):
        with self.connect() as s:
            s.ehlo('client.example')
            code, resp = s.mail('a@sender.example', ['SIZE=%d' % (60 << 20)])
            self.assertEqual(code, 552)
            self.assertTrue(resp.startswith(b'5.3.4'), resp)

    def test_bare_lf_rejected_and_not_spooled(self):
        before = len(spool_ids(self.app))
        with socket.create_connection(('127.0.0.1', self.app.smtp_port), timeout=30) as c:
            f = c.makefile('rb')
            f.readline()
            c.sendall(b'EHLO x\r\n')
            while f.readline()[3:4] == b'-':
                pass
            c.sendall(b'MAIL FROM:<a@b.example>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n')
            self.assertTrue(f.readline().startswith(b'250'))
            self.assertTrue(f.readline().startswith(b'250'))
            self.assertTrue(f.readline().startswith(b'354'))
            c.sendall(b'Subject: x\r\n\r\nbare\nlf\r\n.\r\n')
            self.assertTrue(f.readline().startswith(b'550 5.6.0'))
        self.assertEqual(len(spool_ids(self.app)), before)

    def test_smuggling_does_not_end_data(self):
        with socket.create_connection(('127.0.0.1', self.app.smtp_port), timeout=30) as c:
            f = c.makefile('rb')
            f.readline()
            c.sendall(b'HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n')
            for _ in range(4):
                f.readline()
            # "\n.\n" must not end the message; the smuggled MAIL must stay message text.
            c.sendall(b'Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x.example>\r\n.\r\n')
            reply = f.readline()
            # The bare LFs make the message invalid (550 5.6.0); no smuggled command ran.
            self.assertTrue(reply.startswith(b'550 5.6.0'), reply)
            c.sendall(b'QUIT\r\n')
            self.assertTrue(f.readline().startswith(b'221'))

    @unittest.skipUnless(shutil.which('swaks'), 'swaks is not installed')
    def test_swaks(self):
        r = subprocess.run(['swaks', '--server', '127.0.0.1', '--port', str(self.app.smtp_port),
                            '--from', 'swaks@sender.example', '--to', 'carol@example.test',
                            '--header', 'Subject: swaks test', '--body', 'sent by swaks'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        found = [m for m in self.app.spool_list() if m['mail_from'] == 'swaks@sender.example']
        self.assertEqual(len(found), 1)


SMTP_SOURCE = '/usr/sbin/smtp-source'


class SmtpSourceLoad(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(SMTP_SOURCE), 'Postfix smtp-source is not installed')
    def test_10000_messages_over_50_sessions(self):
        with Appliance() as app:
            count, sessions = 10000, 50
            # -m messages in total, -s parallel sessions, -l message size; 10 per connection.
            r = subprocess.run([SMTP_SOURCE, '-s', str(sessions), '-m', str(count), '-r', '10',
                                '-l', '1024', '-f', 'load@sender.example', '-t', 'sink@example.test',
                                '-N', f'127.0.0.1:{app.smtp_port}'],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stderr.strip(), '')
            ids = spool_ids(app)
            self.assertEqual(len(ids), count)
            self.assertEqual(len(set(ids)), count)


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_cleanly_and_lock_refuses_second_instance(self):
        app = Appliance().start()
        try:
            second = subprocess.run([POSTCORE, 'up', '--data-dir', app.data_dir, '--port-base',
                                     str(app.port_base + 7)], capture_output=True, text=True,
                                    timeout=30)
            self.assertEqual(second.returncode, 1)
            self.assertIn('in use by another postcore', second.stderr)
        finally:
            rc = app.stop()
        self.assertEqual(rc, 0, app.read_log())
        self.assertIn('stopped', app.read_log())
        app.tmp.cleanup()

    def test_profile_error_names_file_line_column(self):
        app = Appliance(profile_text='[appliance]\r\nport_base = 1\r\n\r\nbogus = true\r\n\x1a')
        r = subprocess.run(app.command(), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip(),
                         f'{app.profile}:4:1: unknown key \'bogus\' in [appliance]')
        app.tmp.cleanup()

    def test_transaction_in_flight_finishes_during_shutdown(self):
        app = Appliance().start()
        try:
            s = smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30)
            s.ehlo('client.example')
            s.mail('a@sender.example')
            s.rcpt('b@example.test')
            idle = smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30)
            idle.ehlo('idle.example')
            app.proc.send_signal(15)
            time.sleep(0.5)
            # The idle session was told the service is going away.
            code, resp = idle.noop()
            self.assertEqual(code, 421, resp)
            self.assertTrue(resp.startswith(b'4.3.2'), resp)
            code, resp = s.data(b'Subject: late\r\n\r\nstill accepted\r\n')
            self.assertEqual(code, 250, resp)
            qid = resp.decode().split()[-1]
            s.close()
            idle.close()
            self.assertEqual(app.proc.wait(30), 0)
            self.assertIn(qid, spool_ids(app))
        finally:
            app.stop()
            app.tmp.cleanup()


if __name__ == '__main__':
    unittest.main()
