"""The servers of the SMTP load run and the process accounting around them: smtp-sink,
a throwaway Postfix instance on loopback, and `postcore up`. Used by smtp_load.py."""

import argparse
import datetime
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTFIX_MASTER_CF = "/etc/postfix/master.cf"

SENDER = "sender@example.test"
RECIPIENT = "rcpt@example.test"
CLIENT_NAME = "client.example.test"

SERVERS = ("sink", "postfix", "postcore")
MODES = ("reused", "per-connection")
SERVER_LABEL = {
    "sink": "smtp-sink (no disk)",
    "postfix": "Postfix (durable queue)",
    "postcore": "postcore (durable spool)",
}
MODE_LABEL = {"reused": "reused (`-d`)", "per-connection": "one per message"}
# Postfix queue directories that hold a message between its 250 and its delivery.
POSTFIX_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Abort(Exception):
    """Stops the whole run (deadline, signal, or a server that will not start)."""


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- process accounting

def read_proc_table():
    """pid -> (ppid, own CPU ticks, reaped children's CPU ticks) for every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # comm may contain spaces and parentheses: split after the last ')'.
        fields = data[data.rindex(")") + 2:].split()
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        table[int(name)] = (ppid, utime + stime, cutime + cstime)
    return table


def tree_pids(root, table):
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            out.append(pid)
            todo.extend(children.get(pid, ()))
    return out


def tree_cpu_seconds(root):
    """CPU seconds used so far by `root` and everything below it.

    Each live process counts its own time plus its reaped children's, so a child that
    exits between two samples moves from "live" into its parent's cumulative time and is
    counted exactly once."""
    table = read_proc_table()
    ticks = sum(table[p][1] + table[p][2] for p in tree_pids(root, table))
    return ticks / CLK_TCK


def machine_cpu_seconds():
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
        return data[data.rindex(")") + 2] != "Z"
    except OSError:
        return False


def wait_pid_gone(pid, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


# ---------------------------------------------------------------- network helpers

def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_port_base():
    """A port_base for postcore whose service ports (+25, +587, and the ones later
    services will take) are all free."""
    offsets = (25, 110, 143, 465, 587, 993, 995)
    for _ in range(200):
        base = random.randrange(20000, 60000, 100)
        if all(port_free(base + o) for o in offsets):
            return base
    raise Abort("no free port range for postcore")


def wait_greeting(port, timeout, ready, protocol, proc=None):
    """Waits until 127.0.0.1:port greets with a line starting with `ready`, then says QUIT."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise Abort(f"server exited with status {proc.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                greeting = s.recv(512)
                if greeting.startswith(ready):
                    s.sendall(b"QUIT\r\n")
                    try:
                        s.recv(512)
                    except OSError:
                        pass
                    return
                last = greeting[:80]
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise Abort(f"no {protocol} greeting on 127.0.0.1:{port} within {timeout} s ({last})")


def wait_smtp_ready(port, timeout, proc=None):
    """Waits for a 220 greeting on 127.0.0.1:port, then says QUIT."""
    wait_greeting(port, timeout, b"220", "SMTP", proc)


def median_rows(results, servers, modes, fields, first=()):
    """Per (server, mode): the medians of `fields` over the runs that succeeded, the rate's
    range, and the first run's value of each of `first`; None where every run failed."""
    rows = {}
    for s in servers:
        for m in modes:
            tried = [r for r in results if r["server"] == s and r["mode"] == m]
            rs = [r for r in tried if r["ok"]]
            if not rs:
                if tried:
                    rows[(s, m)] = None
                continue
            row = {"n": len(rs),
                   "rate_min": min(r["rate"] for r in rs),
                   "rate_max": max(r["rate"] for r in rs)}
            for f in ("rate",) + tuple(fields):
                row[f] = statistics.median(r[f] for r in rs)
            for f in first:
                row[f] = rs[0][f]
            rows[(s, m)] = row
    return rows


# ---------------------------------------------------------------- servers

class SmtpSink:
    name = "sink"

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.port = None

    def start(self, run_id):
        self.port = free_port()
        self.errlog = open(os.path.join(self.workdir, f"smtp-sink.{run_id}.log"), "wb")
        self.proc = subprocess.Popen(
            [SMTP_SINK, "-u", "postfix", f"127.0.0.1:{self.port}", "256"],
            stdin=subprocess.DEVNULL, stdout=self.errlog, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_smtp_ready(self.port, 10, self.proc)

    def cpu_seconds(self):
        return tree_cpu_seconds(self.proc.pid)

    def drain(self, timeout):
        return 0.0

    def check(self, expected):
        return []

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.errlog.close()


class PostfixInstance:
    """A throwaway Postfix: its own config, queue and data directories under workdir,
    one smtpd on a loopback port, every recipient at example.test accepted and handed to
    the discard transport. /etc/postfix is only read (for the master.cf template)."""

    name = "postfix"

    def __init__(self, workdir):
        self.base = os.path.join(workdir, "postfix")
        self.conf = os.path.join(self.base, "conf")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.maillog = os.path.join(self.base, "maillog")
        self.port = None
        self.master_pid = None
        self.started = False
        self.log_offset = 0

    def _master_cf(self):
        """/etc/postfix/master.cf with chroot off, the smtp inet service moved to our
        loopback port and every other inet listener dropped."""
        out, skip = [], False
        with open(POSTFIX_MASTER_CF) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                if line[0].isspace():  # continuation of the previous entry
                    if not skip:
                        out.append(line)
                    continue
                fields = line.split()
                skip = False
                if len(fields) < 8:
                    skip = True
                    continue
                if fields[1] == "inet":
                    if fields[0] != "smtp":
                        skip = True
                        continue
                    fields[0] = f"127.0.0.1:{self.port}"
                fields[4] = "n"  # chroot: the throwaway queue has no /etc copies
                out.append(" ".join(fields) + "\n")
        return "".join(out)

    def _main_cf(self):
        return "\n".join([
            "compatibility_level = 3.6",
            f"queue_directory = {self.queue}",
            f"data_directory = {self.data}",
            f"maillog_file = {self.maillog}",
            f"maillog_file_prefixes = {self.base}",
            "myhostname = postfix.example.test",
            "mydomain = example.test",
            "myorigin = example.test",
            "mydestination = example.test, localhost",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            # Accept every recipient at example.test and deliver it to nowhere, cheaply.
            "local_recipient_maps =",
            "local_transport = discard:",
            "default_transport = discard:",
            "relay_transport = discard:",
            "alias_maps =",
            "alias_database =",
            # No DNS, no reverse lookups of the client.
            "smtpd_peername_lookup = no",
            "smtp_host_lookup = native",
            "lmtp_host_lookup = native",
            "disable_dns_lookups = yes",
            # 50 parallel sessions from one address must not hit the per-client limit.
            "smtpd_client_connection_count_limit = 0",
            "default_process_limit = 150",
            "biff = no",
            "",
        ])

    def start(self, run_id):
        if self.started:
            return
        self.port = free_port()
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d)
        shutil.chown(self.data, "postfix", "postfix")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(self._main_cf())
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(self._master_cf())
        # `postfix start` creates the queue directories with the right owners itself
        # (post-install create-missing) and runs the master in the background.
        r = subprocess.run([POSTFIX, "-c", self.conf, "start"], capture_output=True,
                           text=True, timeout=60)
        self.started = True
        if r.returncode != 0:
            raise Abort(f"postfix start failed ({r.returncode}): {r.stderr.strip()}\n"
                        + self._maillog_tail())
        with open(os.path.join(self.queue, "pid", "master.pid")) as f:
            self.master_pid = int(f.read().strip())
        wait_smtp_ready(self.port, 20)

    def version(self):
        r = subprocess.run([POSTCONF, "-c", self.conf, "-h", "mail_version"],
                           capture_output=True, text=True)
        return r.stdout.strip() or "unknown"

    def _maillog_tail(self, n=5):
        try:
            with open(self.maillog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def mark(self):
        """Remembers where this run's lines start in the maillog."""
        try:
            self.log_offset = os.path.getsize(self.maillog)
        except OSError:
            self.log_offset = 0

    def queued(self):
        n = 0
        for q in POSTFIX_QUEUES:
            for _, _, files in os.walk(os.path.join(self.queue, q)):
                n += len(files)
        return n

    def cpu_seconds(self):
        return tree_cpu_seconds(self.master_pid)

    def drain(self, timeout):
        """Waits until every queue is empty; returns the seconds it took."""
        t0 = time.monotonic()
        while self.queued():
            if time.monotonic() - t0 > timeout:
                raise Abort(f"Postfix queue not empty after {timeout} s "
                            f"({self.queued()} files)")
            time.sleep(0.05)
        return time.monotonic() - t0

    def check(self, expected):
        with open(self.maillog, errors="replace") as f:
            f.seek(self.log_offset)
            text = f.read()
        sent = text.count("status=sent")
        problems = []
        if sent != expected:
            problems.append(f"Postfix delivered {sent} of {expected} messages")
        for kind in ("status=deferred", "status=bounced", "reject:", "fatal:", "panic:"):
            k = text.count(kind)
            if k:
                problems.append(f"Postfix maillog: {k} × {kind}")
        return problems

    def stop(self):
        if not self.started:
            return
        subprocess.run([POSTFIX, "-c", self.conf, "stop"], capture_output=True, timeout=60)
        if self.master_pid and not wait_pid_gone(self.master_pid, 20):
            subprocess.run([POSTFIX, "-c", self.conf, "abort"], capture_output=True,
                           timeout=60)
            wait_pid_gone(self.master_pid, 10)
        self.started = False


class Postcore:
    name = "postcore"

    def __init__(self, workdir, build_dir):
        self.workdir = workdir
        self.binary = os.path.join(build_dir, "postcore")
        self.proc = None
        self.port = None
        self.data_dir = None
        self.logfile = None

    def start(self, run_id):
        self.data_dir = os.path.join(self.workdir, f"postcore-data.{run_id}")
        self.logfile = os.path.join(self.workdir, f"postcore.{run_id}.log")
        base = free_port_base()
        self.port = base + 25
        self.errlog = open(self.logfile, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "up", "--data-dir", self.data_dir, "--port-base", str(base)],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=self.errlog,
            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_smtp_ready(self.port, 30, self.proc)
        except Abort as e:
            raise Abort(f"postcore did not start: {e}\n{self.log_excerpt()}")

    def version(self):
        r = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return (r.stdout.strip() or r.stderr.strip() or "unknown").replace("postcore ", "")

    def cpu_seconds(self):
        return tree_cpu_seconds(self.proc.pid)

    def drain(self, timeout):
        # The spool keeps what it accepted; there is no delivery stage to wait for.
        return 0.0

    def log_excerpt(self, n=10):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def check(self, expected):
        problems = []
        if self.proc.poll() is not None:
            problems.append(f"postcore exited during the run (status {self.proc.returncode})")
        with open(self.logfile, errors="replace") as f:
            lines = f.readlines()
        # Log lines are "<priority>component: message"; 0-3 are errors, 4 warnings.
        bad = [l.rstrip() for l in lines if re.match(r"<[0-4]>", l)]
        restarts = [l.rstrip() for l in lines if "restart" in l.lower()]
        if bad:
            problems.append(f"postcore logged {len(bad)} warnings/errors, e.g.: "
                            + " | ".join(bad[:3]))
        if restarts:
            problems.append("postcore supervisor: " + " | ".join(restarts[:3]))
        n = self.spool_count()
        if n is not None and n != expected:
            problems.append(f"postcore spool holds {n} messages, expected {expected}")
        return problems

    def spool_count(self):
        """Messages in the spool per `postcore spool list --json`, or None if the
        inspector is not available."""
        try:
            r = subprocess.run([self.binary, "spool", "list", "--data-dir", self.data_dir,
                                "--json"], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                return None
            doc = json.loads(r.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None
        if isinstance(doc, list):
            return len(doc)
        if isinstance(doc, dict):
            if isinstance(doc.get("count"), int):
                return doc["count"]
            for v in doc.values():
                if isinstance(v, list):
                    return len(v)
        return None

    def dataplane_pids(self):
        table = read_proc_table()
        return [p for p in tree_pids(self.proc.pid, table) if p != self.proc.pid]

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for pid in self.dataplane_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.errlog.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


