"""Starts a real `postcore up` on loopback for a test and stops it again, by PID.

Every test gets its own data directory and its own free ports, so tests never share
state and never touch an address outside 127.0.0.0/8.
"""
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
BUILD = os.environ.get('POSTCORE_BUILD', os.path.join(os.path.dirname(__file__), '..', '..', 'build'))
POSTCORE = os.path.join(BUILD, 'postcore')
POSTCORECTL = os.path.join(BUILD, 'postcorectl')
SERVICES = {'smtp': 25, 'submission': 587, 'pop3': 110}


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(('127.0.0.1', port))
            return True
        except OSError:
            return False


def free_port_base():
    for _ in range(200):
        base = random.randrange(20000, 50000)
        if all(port_free(base + p) for p in SERVICES.values()):
            return base
    raise RuntimeError('no free port base found')


def wait_unix_socket(path, deadline):
    """True once something accepts connections on the Unix socket `path`."""
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(path)
                return True
            except OSError:
                time.sleep(0.02)
    return False


def wait_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
                s.recv(512)  # the greeting: the dataplane really answers
                return True
        except OSError:
            time.sleep(0.05)
    return False


def hold_delivery(profile_text):
    """The profile with local delivery on hold (a profile without the key is left as it is)."""
    return profile_text.replace('hold = false', 'hold = true', 1)


class Appliance:
    """`postcore up` in a temporary data directory; use as a context manager."""

    def __init__(self, profile_text=None, data_dir=None, extra_args=(), deliver=False):
        """`deliver`: local delivery runs; otherwise it is on hold and every message stays
        in the spool, where the tests of SMTP and of the spool look for it."""
        self.tmp = tempfile.TemporaryDirectory(prefix='postcore-test-')
        self.data_dir = data_dir or os.path.join(self.tmp.name, 'var')
        self.profile = None
        if profile_text is None and not deliver:
            with open(os.path.join(ROOT, 'hwprofiles', 'dev.toml')) as f:
                profile_text = f.read()
        if profile_text is not None and not deliver:
            profile_text = hold_delivery(profile_text)
        if profile_text is not None:
            self.profile = os.path.join(self.tmp.name, 'profile.toml')
            with open(self.profile, 'w') as f:
                f.write(profile_text)
        self.port_base = free_port_base()
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(self.tmp.name, 'postcore.log')

    @property
    def smtp_port(self):
        return self.port_base + SERVICES['smtp']

    @property
    def submission_port(self):
        return self.port_base + SERVICES['submission']

    def command(self):
        cmd = [POSTCORE, 'up', '--data-dir', self.data_dir, '--port-base', str(self.port_base)]
        if self.profile:
            cmd += ['--profile', self.profile]
        return cmd + self.extra_args

    def start(self, timeout=20):
        self.log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=self.log)
        if not wait_port(self.smtp_port, time.monotonic() + timeout):
            self.stop()
            raise RuntimeError('postcore did not come up:\n' + self.read_log())
        # The control plane starts beside the dataplane; tests speak to both.
        if not wait_unix_socket(os.path.join(self.data_dir, 'control.sock'),
                                time.monotonic() + timeout):
            self.stop()
            raise RuntimeError('the control plane did not come up:\n' + self.read_log())
        return self

    def read_log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode(errors='replace')

    def dataplane_pid(self):
        return self.child_pid('postcore-dataplane')

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, 'log', None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def finish(self):
        """Stops the appliance and removes its files; returns its log. Raises unless it
        stopped cleanly (exit 0, no sanitizer report)."""
        rc = self.stop()
        log = self.read_log()
        self.tmp.cleanup()
        if rc != 0 or 'Sanitizer' in log:
            raise AssertionError(f'postcore stopped with {rc}:\n{log}')
        return log

    def spool(self, *args):
        r = subprocess.run([POSTCORE, 'spool', *args, '--data-dir', self.data_dir],
                           capture_output=True, text=True)
        return r

    def ctl(self, *args, check=True, **kwargs):
        """Runs postcorectl against this appliance; raises on failure when `check`."""
        r = subprocess.run([POSTCORECTL, '--data-dir', self.data_dir, *args],
                           capture_output=True, text=True, timeout=60, **kwargs)
        if check and r.returncode != 0:
            raise RuntimeError(f'postcorectl {" ".join(args)}: {r.returncode}: {r.stderr}')
        return r

    def child_pid(self, name):
        """The PID of one of our own supervisor's children, by executable name."""
        out = subprocess.run(['ps', '-o', 'pid=,args=', '--ppid', str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            pid, args = line.split(None, 1)
            if os.path.basename(args.split()[0]) == name:
                return int(pid)
        return None

    def spool_list(self, content=False):
        r = self.spool('list', '--json', *(['--content'] if content else []))
        if r.returncode != 0:
            raise RuntimeError('spool list failed: ' + r.stderr)
        return json.loads(r.stdout)['messages']

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.tmp.cleanup()


def assert_spool_holds(test, app, acked, label):
    """Every acknowledged message ({queue id: bytes sent}) is in the spool once,
    byte-identical; prints acked / found / lost / duplicated."""
    listed = app.spool_list(content=True)
    seen = {}
    for m in listed:
        seen[m['queue_id']] = seen.get(m['queue_id'], 0) + 1
    contents = {m['queue_id']: m.get('content') or '' for m in listed}
    lost = [q for q, data in acked.items()
            if q not in contents or not contents[q].endswith(data.decode())]
    duplicated = [q for q, n in seen.items() if n > 1]
    print(f'{label}: acked {len(acked)} / found {len(acked) - len(lost)} / '
          f'lost {len(lost)} / duplicated {len(duplicated)}', flush=True)
    test.assertEqual(lost, [], app.read_log()[-6000:])
    test.assertEqual(duplicated, [])
