"""kill -9 of the dataplane under load, 20 times. A loader records every message that
got a 250; after each restart every one of them must be in the spool, byte-identical.
Prints acked / found / lost."""
import os
import signal
import smtplib
import threading
import time
import unittest

from harness import Appliance, wait_port

KILLS = int(os.environ.get('POSTCORE_CRASH_KILLS', '20'))
LOADERS = 4
# Bounded load: each loader paces itself and stops after this many messages.
MAX_PER_LOADER = 1500
PAUSE = 0.04


class Loader(threading.Thread):
    def __init__(self, port, index, acked, lock, stop):
        super().__init__(daemon=True)
        self.port, self.index, self.acked, self.lock, self.stop = port, index, acked, lock, stop
        self.seq = 0

    def message(self):
        self.seq += 1
        body = f'loader {self.index} message {self.seq}\r\n' + ('x' * (self.seq % 700)) + '\r\n'
        return (f'From: load@sender.example\r\nTo: sink@example.test\r\n'
                f'Subject: crash {self.index}.{self.seq}\r\n\r\n{body}').encode()

    def run(self):
        deadline = time.monotonic() + 600
        while (not self.stop.is_set() and time.monotonic() < deadline
               and self.seq < MAX_PER_LOADER):
            try:
                with smtplib.SMTP('127.0.0.1', self.port, timeout=10) as s:
                    s.ehlo('loader.example')
                    for _ in range(50):
                        if self.stop.is_set() or self.seq >= MAX_PER_LOADER:
                            break
                        time.sleep(PAUSE)
                        data = self.message()
                        s.mail('load@sender.example')
                        s.rcpt('sink@example.test')
                        code, resp = s.data(data)
                        if code == 250:
                            qid = resp.decode().split()[-1]
                            with self.lock:
                                self.acked[qid] = data
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)


class CrashUnderLoad(unittest.TestCase):
    def test_kill9_loses_no_acknowledged_message(self):
        app = Appliance().start()
        acked, lock, stop = {}, threading.Lock(), threading.Event()
        loaders = [Loader(app.smtp_port, i, acked, lock, stop) for i in range(LOADERS)]
        for l in loaders:
            l.start()
        lost_total = 0
        try:
            for kill in range(KILLS):
                # The supervisor resets its restart backoff after 3 s of healthy running.
                time.sleep(3.2)
                pid = app.dataplane_pid()
                self.assertIsNotNone(pid, app.read_log())
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    new = app.dataplane_pid()
                    if new and new != pid:
                        break
                    time.sleep(0.05)
                self.assertTrue(wait_port(app.smtp_port, time.monotonic() + 30), app.read_log())
                with lock:
                    snapshot = dict(acked)
                stored = {m['queue_id']: m.get('content') for m in app.spool_list(content=True)}
                lost = [q for q in snapshot if q not in stored]
                for qid, data in snapshot.items():
                    if qid in lost:
                        continue
                    content = stored[qid] or ''
                    # The spool holds the Received: header, then the bytes the client sent.
                    if not (content.startswith('Received: ') and content.endswith(data.decode())):
                        lost.append(qid)
                lost_total = len(lost)
                print(f'kill {kill + 1}/{KILLS}: acked {len(snapshot)} found '
                      f'{len(snapshot) - len(lost)} lost {len(lost)}', flush=True)
                self.assertEqual(lost, [], f'lost after kill {kill + 1}')
        finally:
            stop.set()
            for l in loaders:
                l.join(15)
            rc = app.stop()
        with lock:
            total = len(acked)
        found = {m['queue_id'] for m in app.spool_list()}
        lost = [q for q in acked if q not in found]
        print(f'acked {total} / found {total - len(lost)} / lost {len(lost)}', flush=True)
        self.assertEqual(lost, [])
        self.assertEqual(lost_total, 0)
        self.assertGreater(total, KILLS)
        self.assertEqual(rc, 0, app.read_log())
        app.tmp.cleanup()


if __name__ == '__main__':
    unittest.main()
