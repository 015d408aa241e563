"""kill -9 of the dataplane in the middle of delivering 10,000 messages: every message
acknowledged with 250 ends up in its mailbox exactly once, none twice, no UID twice. The
test prints sent / acked / in mailboxes / lost / duplicates."""
import os
import signal
import smtplib
import threading
import time
import unittest

from harness import Appliance
from test_delivery import inbox, message, wait_for


class DeliveryCrash(unittest.TestCase):
    """kill -9 of the dataplane while thousands of messages are being delivered."""
    count = 10000

    def test_kill_during_delivery_leaves_each_message_once(self):
        app = Appliance(deliver=True).start()
        try:
            app.ctl('domain', 'add', 'example.com')
            app.ctl('account', 'add', 'sink@example.com', '--password', 'sink-pw')
            time.sleep(1.5)
            acked = set()
            lock = threading.Lock()

            tried = set()
            stop_at = time.monotonic() + 240

            def sender(worker, n):
                # Ten messages a session; a session cut by the kill is not counted as
                # acknowledged past its last 250, and the worker goes on once the
                # dataplane is back.
                i = 0
                while i < n and time.monotonic() < stop_at:
                    try:
                        with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
                            for _ in range(min(10, n - i)):
                                token = f'w{worker}-{i}'
                                i += 1
                                with lock:
                                    tried.add(token)
                                s.sendmail('x@remote.example', ['sink@example.com'],
                                           message(token))
                                with lock:
                                    acked.add(token)
                    except (OSError, smtplib.SMTPException):
                        time.sleep(0.1)

            workers = 4
            threads = [threading.Thread(target=sender, args=(w, self.count // workers))
                       for w in range(workers)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 120
            while len(acked) < self.count // 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(app.dataplane_pid(), signal.SIGKILL)
            for t in threads:
                t.join(300)
            with lock:
                sent = set(acked)
            # The supervisor restarts the dataplane; delivery resumes from the spool.
            self.assertTrue(wait_for(lambda: app.dataplane_pid() is not None, 30))

            # The spool's reader ignores what follows a segment's last durability mark
            # until recovery has run, so wait for every acknowledged message to arrive.
            def settled():
                listed = inbox(app, 'sink@example.com')
                return len(listed) >= len(sent) and app.spool_list() == []
            wait_for(settled, 240)
            listed = inbox(app, 'sink@example.com', content=True)
            seen = {}
            for m in listed:
                subject = m['content'].split('\r\nSubject: ', 1)[1].split('\r\n', 1)[0]
                seen[subject] = seen.get(subject, 0) + 1
            lost = sorted(sent - set(seen))
            duplicates = sorted(t for t, n in seen.items() if n > 1)
            strangers = sorted(set(seen) - tried)
            print(f'sent {len(tried)} / acked {len(sent)} / in mailboxes {len(seen)} / '
                  f'lost {len(lost)} / duplicates {len(duplicates)}', flush=True)
            self.assertEqual(strangers, [])
            self.assertGreaterEqual(len(sent), self.count - 4 * 10)
            if lost:  # what the spool and the log say about them, for the record
                problems = [line for line in app.read_log().splitlines()
                            if 'deliver' in line and ('<3>' in line or '<4>' in line)]
                self.fail(f'lost {lost}; spool: {app.spool_list()}; log: {problems[-20:]}')
            self.assertEqual(duplicates, [])
            uids = [m['uid'] for m in listed]
            self.assertEqual(len(uids), len(set(uids)))
        finally:
            app.finish()


if __name__ == '__main__':
    unittest.main()
