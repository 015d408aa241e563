#!/usr/bin/env python3
"""SMTP ingest load run: postcore against Postfix and smtp-sink on this machine.

Postfix's smtp-source sends 10 KB messages over 50 parallel sessions, once reusing each
connection for many messages and once opening a connection per message, to three servers
in turn:

  smtp-sink   Postfix's test sink: accepts and discards, touches no disk (the upper bound)
  Postfix     a stock Postfix with its durable queue, in a throwaway instance on loopback
  postcore    `postcore up` on a fresh data directory (durable, group-committed spool)

Each (server, mode) pair runs --runs times (median reported). The script prints msg/s,
server CPU milliseconds per message and the ratios, and rewrites the generated block of
the "SMTP ingest: postcore vs Postfix" section of docs/perf.md (nothing else in that file).

Run as root from the repository (Postfix needs root to start). Loopback only. Not for CI.
"""

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

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTION_HEADING = "## SMTP ingest: postcore vs Postfix"
BEGIN_MARK = "<!-- smtp_load.py: generated block begin (rewritten on every full run) -->"
END_MARK = "<!-- smtp_load.py: generated block end -->"
WHERE_TIME_GOES = (
    "### Where the time goes\n\n"
    "_Not yet written: profile the postcore dataplane during a reused-connection run "
    "(`perf/load/smtp_load.py --profile FILE`) and summarise it here. "
    "smtp_load.py never rewrites this paragraph._\n"
)

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


def wait_smtp_ready(port, timeout, proc=None):
    """Waits for a 220 greeting on 127.0.0.1:port, then says QUIT."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise Abort(f"server exited with status {proc.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                greeting = s.recv(512)
                if greeting.startswith(b"220"):
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
    raise Abort(f"no SMTP greeting on 127.0.0.1:{port} within {timeout} s ({last})")


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


# ---------------------------------------------------------------- load

def smtp_source_argv(port, mode, messages, sessions, size):
    argv = [SMTP_SOURCE, "-4", "-s", str(sessions), "-l", str(size), "-m", str(messages),
            "-f", SENDER, "-t", RECIPIENT, "-M", CLIENT_NAME]
    if mode == "reused":
        argv.append("-d")
    argv.append(f"127.0.0.1:{port}")
    return argv


def run_smtp_source(argv, timeout, workdir, run_id):
    """Runs smtp-source; returns (wall seconds, client CPU seconds, status, stderr)."""
    out_path = os.path.join(workdir, f"smtp-source.{run_id}.out")
    with open(out_path, "wb") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            os.kill(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            proc.returncode = -9
            raise
        finally:
            timer.cancel()
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f:
        text = f.read()
    if proc.returncode == -signal.SIGKILL:
        text += f"\n(killed after the {timeout} s timeout)"
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode, text.strip()


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise Abort(f"the whole run exceeded its {self.seconds} s limit")
        return left


def one_run(server, mode, args, workdir, run_id, deadline):
    messages = args.messages_reused if mode == "reused" else args.messages_per_connection
    server.start(run_id)
    try:
        if isinstance(server, PostfixInstance):
            server.drain(min(120, deadline.left()))
            server.mark()
        cpu0 = server.cpu_seconds()
        busy0, steal0 = machine_cpu_seconds()
        argv = smtp_source_argv(server.port, mode, messages, args.sessions, args.size)
        wall, client_cpu, rc, output = run_smtp_source(
            argv, min(args.timeout, deadline.left()), workdir, run_id)
        busy1, steal1 = machine_cpu_seconds()
        cpu_ingest = server.cpu_seconds() - cpu0
        # What the rest of the machine took meanwhile: the figures are only as clean as
        # this is small.
        capacity = wall * len(os.sched_getaffinity(0))
        other = max(0.0, busy1 - busy0 - cpu_ingest - client_cpu)
        drain_s = server.drain(min(args.timeout, deadline.left())) if rc == 0 else 0.0
        cpu_total = server.cpu_seconds() - cpu0
        problems = []
        if rc != 0:
            problems.append(f"smtp-source exit status {rc}: {output[-500:]}")
        elif output:
            problems.append(f"smtp-source said: {output[-500:]}")
        if rc == 0:
            problems += server.check(messages)
        if isinstance(server, Postcore) and problems:
            problems.append("postcore log tail:\n" + server.log_excerpt())
    finally:
        if not isinstance(server, PostfixInstance):
            server.stop()
    return {
        "server": server.name, "mode": mode, "messages": messages, "ok": rc == 0,
        "wall": wall, "rate": messages / wall,
        "cpu_ingest_ms": 1000 * cpu_ingest / messages,
        "cpu_total_ms": 1000 * cpu_total / messages,
        "client_ms": 1000 * client_cpu / messages,
        "drain": drain_s, "problems": problems,
        "other_pct": 100 * other / capacity, "steal_pct": 100 * (steal1 - steal0) / capacity,
        "argv": argv,
    }


def profile_postcore(server, args, workdir, deadline, out_path):
    """One extra reused-connection run with `perf record` on postcore's processes."""
    server.start("profile")
    try:
        pids = ",".join(str(p) for p in tree_pids(server.proc.pid, read_proc_table()))
        data = os.path.join(workdir, "perf.data")
        perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o", data, "-p", pids],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.5)
        argv = smtp_source_argv(server.port, "reused", args.messages_reused, args.sessions,
                                args.size)
        run_smtp_source(argv, min(args.timeout, deadline.left()), workdir, "profile")
        perf.send_signal(signal.SIGINT)
        perf.wait(60)
    finally:
        server.stop()
    reports = []
    for title, extra in (
            ("by command and shared object", ["--no-children", "--sort", "comm,dso"]),
            ("by symbol, self time", ["--no-children", "--sort", "sym"]),
            ("by symbol, including callees (kernel paths: io_send, io_fsync, io_write…)",
             ["--children", "--sort", "sym", "--percent-limit", "4"])):
        r = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none",
                            "--percent-limit", "0.7"] + extra,
                           capture_output=True, text=True, timeout=300)
        body = "\n".join(l for l in r.stdout.splitlines() if l and not l.startswith("#"))
        reports.append(f"== {title}\n{body}\n")
    with open(out_path, "w") as f:
        f.write(f"perf record -F 1999 -g on postcore (supervisor + dataplane) during "
                f"{shlex.join(argv)}\n\n" + "\n".join(reports))
    log(f"profile written to {out_path}")


# ---------------------------------------------------------------- report

def median_rows(results, servers, modes):
    rows = {}
    for s in servers:
        for m in modes:
            tried = [r for r in results if r["server"] == s and r["mode"] == m]
            rs = [r for r in tried if r["ok"]]
            if not rs:
                if tried:
                    rows[(s, m)] = None
                continue
            rows[(s, m)] = {
                "n": len(rs),
                "rate": statistics.median(r["rate"] for r in rs),
                "rate_min": min(r["rate"] for r in rs),
                "rate_max": max(r["rate"] for r in rs),
                "cpu_ingest_ms": statistics.median(r["cpu_ingest_ms"] for r in rs),
                "cpu_total_ms": statistics.median(r["cpu_total_ms"] for r in rs),
                "client_ms": statistics.median(r["client_ms"] for r in rs),
                "other_pct": statistics.median(r["other_pct"] for r in rs),
                "messages": rs[0]["messages"],
            }
    return rows


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "—"


def table_lines(rows, servers, modes, postfix_version):
    label = dict(SERVER_LABEL)
    label["postfix"] = f"Postfix {postfix_version} (durable queue)"
    head = ("| server | connections | msg/s (median) | msg/s (min–max) | server CPU ms/msg, "
            "ingest | server CPU ms/msg, until queue empty | smtp-source CPU ms/msg | "
            "msg/s vs Postfix | msg/s vs smtp-sink | CPU/msg vs Postfix | "
            "other work, % of CPUs |")
    lines = [head, "|" + " --- |" * 11]
    for m in modes:
        for s in servers:
            if (s, m) not in rows or rows[(s, m)] is None:
                what = "failed" if (s, m) in rows else "not run"
                lines.append(f"| {label[s]} | {MODE_LABEL[m]} | {what} | | | | | | | | |")
                continue
            r = rows[(s, m)]
            pf = rows.get(("postfix", m))
            sk = rows.get(("sink", m))
            lines.append(
                f"| {label[s]} | {MODE_LABEL[m]} | {r['rate']:.0f} | "
                f"{r['rate_min']:.0f}–{r['rate_max']:.0f} | {r['cpu_ingest_ms']:.3f} | "
                f"{r['cpu_total_ms']:.3f} | {r['client_ms']:.3f} | "
                f"{fmt_ratio(r['rate'], pf and pf['rate'])} | "
                f"{fmt_ratio(r['rate'], sk and sk['rate'])} | "
                f"{fmt_ratio(r['cpu_total_ms'], pf and pf['cpu_total_ms'])} | "
                f"{r['other_pct']:.0f} |")
    return lines


def target_lines(rows):
    pc, pf, sk = (rows.get((s, "reused")) for s in ("postcore", "postfix", "sink"))
    if not (pc and pf and sk):
        return ["Targets (reused connections): not evaluated; they need successful "
                "reused-connection runs of postcore, Postfix and smtp-sink."]
    a, b = pc["rate"] / pf["rate"], pc["rate"] / sk["rate"]
    return [
        "Targets, reused connections (2-core machine): postcore ≥ 5× Postfix: "
        f"**{a:.2f}× — {'met' if a >= 5 else 'missed'}**; postcore ≥ 50 % of smtp-sink: "
        f"**{100 * b:.0f} % — {'met' if b >= 0.5 else 'missed'}**.",
    ]


def machine_info(workdir):
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    fs = "unknown"
    try:
        best = ""
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, typ = line.split()[:3]
                if (workdir + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best):
                    best, fs = mnt, f"{typ} on {dev}"
                    if typ == "ext4":
                        # An ext4 without a journal makes fsync much cheaper than usual.
                        try:
                            with open(f"/sys/fs/ext4/{os.path.basename(dev)}/journal_task") as j:
                                if j.read().strip() == "<none>":
                                    fs = f"ext4 without a journal on {dev}"
                        except OSError:
                            pass
    except OSError:
        pass
    flags = first("/proc/cpuinfo", "flags").split()
    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "kernel": os.uname().release,
        "cpu": first("/proc/cpuinfo", "model name"),
        "mem": f"{int(mem_kb) / 1048576:.1f} GiB" if mem_kb.isdigit() else "unknown",
        "fs": fs,
        "vm": "a virtual machine" if "hypervisor" in flags else "bare metal",
    }


def git_revision():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    rev = r.stdout.strip() if r.returncode == 0 else "no commit"
    d = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                       capture_output=True, text=True)
    return rev + (" + uncommitted changes" if d.stdout.strip() else "")


def generated_block(command, rows, results, servers, modes, args, info, versions, problems):
    mr, mp = args.messages_reused, args.messages_per_connection
    out = [
        BEGIN_MARK,
        "",
        f"Command (run from the repository root, as root): `{command}`",
        "",
        f"Run {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: "
        f"{info['vm']}, {info['cpus']} CPUs ({info['cpu']}), {info['mem']} RAM, "
        f"Linux {info['kernel']}, "
        f"spool and queue on {info['fs']}. Versions: postcore {versions['postcore']} "
        f"(git {versions['git']}, build `{args.build}`), Postfix {versions['postfix']} "
        "(Debian package; smtp-source and smtp-sink from the same package).",
        "",
        f"Load: Postfix's `smtp-source`, {args.size}-byte bodies, {args.sessions} parallel "
        f"sessions, one recipient per message; {mr} messages with reused connections "
        f"(`-d`: every session sends message after message on one connection), {mp} with a "
        f"new connection per message. Each (server, mode) pair ran {args.runs} time(s), "
        "interleaved; the table shows medians. Client, servers and the rest of the machine "
        "share the same cores, so the figures are indicative.",
        "",
    ]
    out += table_lines(rows, servers, modes, versions["postfix"])
    out += [""] + target_lines(rows) + [""]
    out += [
        "How it is measured:",
        "",
        "- msg/s: messages ÷ wall time of `smtp-source` (first connect to last QUIT). Every "
        "message got its 250 (smtp-source stops at the first non-2xx reply; such a run is "
        "reported as failed).",
        "- Server CPU: user + system time of the server's whole process tree from `/proc` "
        "(each live process's own time plus its reaped children's), sampled just before "
        "and just after smtp-source. *ingest* is that window. *until queue empty* extends "
        "it until Postfix's queue directories are empty again, so Postfix's figure also "
        "pays for qmgr, trivial-rewrite and the discard transport that delivered the run's "
        "messages. smtp-sink keeps nothing and postcore's spool keeps what it accepted (it "
        "has no delivery stage yet), so for them both columns cover the same window.",
        "- Other work: the machine's busy CPU time (`/proc/stat`) during smtp-source minus "
        "the server's and smtp-source's, as a share of all CPUs over the run's wall time. "
        "It is what other jobs on the machine took; the figures are only as clean as it is "
        "small. On loopback the kernel's TCP work for both ends is split between the "
        "sending and the receiving process in no fixed way, so server and client CPU are "
        "best read together.",
        "- smtp-sink: `smtp-sink -u postfix 127.0.0.1:PORT 256`, one process, no disk.",
        "- Postfix: a throwaway instance (own `config_directory`, `queue_directory` and "
        "`data_directory` in a temporary directory, started with `postfix -c DIR start` "
        "once for all its runs). master.cf is Debian's with chroot off and only the smtp "
        "listener (moved to a loopback port); main.cf: `mydestination = example.test`, "
        "`local_recipient_maps =` (every recipient accepted), local and default transport "
        "`discard:`, `smtpd_peername_lookup = no`, `disable_dns_lookups = yes`, "
        "`smtpd_client_connection_count_limit = 0`, `default_process_limit = 150`, "
        "`maillog_file` in the instance directory (this machine has no syslog; postlogd's "
        "CPU is counted). Everything else is stock, including the fsync of every queue "
        "file before 250 and `in_flow_delay`. Queues are empty before each run.",
        "- postcore: `postcore up --data-dir FRESH_DIR --port-base N` on the embedded "
        "`hwprofiles/dev.toml` (one reactor per CPU, log level info); a fresh data "
        "directory and a fresh process for every run. Its 250 follows the spool's group "
        "commit (fdatasync).",
    ]
    if problems:
        out += ["", "Problems seen during this run:", ""]
        out += [f"- {p}" for p in problems]
    out += ["", "<details><summary>Every run</summary>", "",
            "| # | server | connections | messages | seconds | msg/s | CPU ms/msg ingest | "
            "CPU ms/msg until empty | queue drain s | other work, % of CPUs | "
            "steal, % of CPUs |", "|" + " --- |" * 11]
    for i, r in enumerate(results, 1):
        out.append(
            f"| {i} | {r['server']} | {r['mode']} | {r['messages']} | {r['wall']:.2f} | "
            f"{r['rate']:.0f}{'' if r['ok'] else ' (failed)'} | {r['cpu_ingest_ms']:.3f} | "
            f"{r['cpu_total_ms']:.3f} | {r['drain']:.2f} | {r['other_pct']:.0f} | "
            f"{r['steal_pct']:.0f} |")
    out += ["", "</details>", "", END_MARK]
    return "\n".join(out) + "\n"


def write_docs(path, block):
    """Replaces the generated block inside our section of docs/perf.md; creates the file
    or the section if missing. Other sections and the hand-written paragraphs of ours
    stay as they are."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Performance\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION_HEADING), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" if text.strip() else ""
        text += f"{SECTION_HEADING}\n\n{block}\n{WHERE_TIME_GOES}"
    else:
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("## ") or lines[i].startswith("# ")), len(lines))
        section = "".join(lines[start + 1:end])
        b, e = section.find(BEGIN_MARK), section.find(END_MARK)
        if b >= 0 and e > b:
            e_end = e + len(END_MARK)
            if section[e_end:e_end + 1] == "\n":
                e_end += 1
            section = section[:b] + block + section[e_end:]
        else:
            rest = section.lstrip("\n")
            if "### Where the time goes" not in section:
                rest = WHERE_TIME_GOES + ("\n" + rest if rest else "")
            section = "\n" + block + "\n" + rest
            if not section.endswith("\n\n") and end < len(lines):
                section += "\n"
        text = "".join(lines[:start + 1]) + section + "".join(lines[end:])
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- main

def repo_relative(path):
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


def parse_args():
    p = argparse.ArgumentParser(
        description="SMTP ingest load run: postcore vs Postfix vs smtp-sink (see "
                    "perf/load/README.md).")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="build directory holding postcore (default: the repository's build)")
    p.add_argument("--runs", type=int, default=3, help="runs per (server, mode); median")
    p.add_argument("--messages-reused", type=int, default=20000,
                   help="messages per run with reused connections (default 20000)")
    p.add_argument("--messages-per-connection", type=int, default=5000,
                   help="messages per run with a connection per message (default 5000)")
    p.add_argument("--sessions", type=int, default=50, help="parallel sessions (default 50)")
    p.add_argument("--size", type=int, default=10240, help="body bytes (default 10240)")
    p.add_argument("--servers", default=",".join(SERVERS),
                   help="comma-separated subset of sink,postfix,postcore")
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated subset of reused,per-connection")
    p.add_argument("--timeout", type=int, default=300,
                   help="limit for one smtp-source run or queue drain, seconds")
    p.add_argument("--deadline", type=int, default=None,
                   help="limit for the whole script, seconds (default 2400; 300 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 run each, 500 messages, docs not written")
    p.add_argument("--output", default=os.path.join(REPO, "docs", "perf.md"),
                   help="the perf document to update (default: the repository's docs/perf.md)")
    p.add_argument("--write", action="store_true", help="update --output even with --quick")
    p.add_argument("--no-write", action="store_true", help="only print, never update --output")
    p.add_argument("--profile", metavar="FILE",
                   help="after the runs, profile postcore with perf during one more "
                        "reused-connection run and write the report to FILE")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory (logs, Postfix instance) for a look")
    args = p.parse_args()
    if args.quick:
        args.runs = 1
        args.messages_reused = args.messages_per_connection = 500
    args.servers = [s for s in args.servers.split(",") if s]
    args.modes = [m for m in args.modes.split(",") if m]
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s}")
    for m in args.modes:
        if m not in MODES:
            p.error(f"unknown mode {m}")
    if args.deadline is None:
        args.deadline = 300 if args.quick else 2400
    args.write_docs = not args.no_write and (args.write or not args.quick)
    args.output = os.path.abspath(args.output)
    return args


def on_signal(signum, frame):
    raise Abort(f"stopped by signal {signum}")


def main():
    args = parse_args()
    command = shlex.join(["perf/load/smtp_load.py"] + sys.argv[1:])
    if os.geteuid() != 0 and ("postfix" in args.servers or "sink" in args.servers):
        sys.exit("smtp_load.py: Postfix and smtp-sink need root here (run as root)")
    for tool in (SMTP_SOURCE, SMTP_SINK, POSTFIX):
        if not os.access(tool, os.X_OK):
            sys.exit(f"smtp_load.py: {tool} is missing (apt-get install postfix)")
    build_dir = os.path.abspath(args.build)
    args.build = repo_relative(build_dir)
    if "postcore" in args.servers and not os.access(os.path.join(build_dir, "postcore"),
                                                    os.X_OK):
        sys.exit(f"smtp_load.py: {build_dir}/postcore not found (build it, or pass --build)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # A last resort in case something blocks outside every timeout below.
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(args.deadline + 120)
    deadline = Deadline(args.deadline)

    workdir = tempfile.mkdtemp(prefix="smtp_load.", dir="/var/tmp")
    # Postfix daemons run as the postfix user and must reach their data directory.
    os.chmod(workdir, 0o755)
    servers = {}
    results, problems = [], []
    status = 0
    try:
        if "sink" in args.servers:
            servers["sink"] = SmtpSink(workdir)
        if "postfix" in args.servers:
            servers["postfix"] = PostfixInstance(workdir)
        if "postcore" in args.servers:
            servers["postcore"] = Postcore(workdir, build_dir)
        versions = {"postfix": "unknown", "postcore": "unknown", "git": git_revision()}
        if "postcore" in servers:
            versions["postcore"] = servers["postcore"].version()
        log(f"smtp_load: {args.runs} run(s) × {args.modes} × {args.servers}; "
            f"work directory {workdir}")
        for rep in range(1, args.runs + 1):
            for mode in args.modes:
                for name in args.servers:
                    server = servers[name]
                    run_id = f"{name}.{mode}.{rep}"
                    deadline.left()
                    r = one_run(server, mode, args, workdir, run_id, deadline)
                    if name == "postfix" and versions["postfix"] == "unknown":
                        versions["postfix"] = server.version()
                    results.append(r)
                    log(f"[{rep}/{args.runs}] {name:8} {mode:14} {r['messages']:6d} msgs "
                        f"{r['wall']:7.2f} s {r['rate']:8.0f} msg/s  server CPU "
                        f"{r['cpu_ingest_ms']:.3f} ms/msg ingest, {r['cpu_total_ms']:.3f} "
                        f"until empty (drain {r['drain']:.2f} s)  client "
                        f"{r['client_ms']:.3f} ms/msg  other work {r['other_pct']:.0f} %"
                        f"{'' if r['ok'] else '  FAILED'}")
                    for p in r["problems"]:
                        log(f"    problem: {p}")
                        problems.append(f"run {len(results)} ({name}, {mode}): "
                                        + p.splitlines()[0])
        if args.profile and "postcore" in servers:
            profile_postcore(servers["postcore"], args, workdir, deadline,
                             os.path.abspath(args.profile))
    except Abort as e:
        log(f"smtp_load: aborted: {e}")
        status = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for server in servers.values():
            try:
                server.stop()
            except Exception as e:  # keep stopping the others
                log(f"smtp_load: stopping {server.name}: {e}")
        signal.alarm(0)
        if args.keep:
            log(f"smtp_load: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if not results:
        return 1
    rows = median_rows(results, args.servers, args.modes)
    info = machine_info(workdir)
    log("")
    for line in table_lines(rows, args.servers, args.modes, versions["postfix"]):
        log(line)
    log("")
    for line in target_lines(rows):
        log(line)
    if any(not r["ok"] for r in results):
        status = 1
    if args.write_docs and status == 0:
        block = generated_block(command, rows, results, args.servers, args.modes, args,
                                info, versions, problems)
        write_docs(args.output, block)
        log(f"\nwrote {repo_relative(args.output)}")
    elif args.write_docs:
        log(f"\n{repo_relative(args.output)} left unchanged: the run had failures")
    return status


if __name__ == "__main__":
    sys.exit(main())
