#!/usr/bin/env python3
"""POP3 load run: postcore against Dovecot 2.3 on this machine.

Both servers get the same accounts (same password, same password hash) and the same
messages (by default 1,000 of 10 KB, spread over one account per connection):

  postcore   `postcore up` on a fresh data directory; the messages go in over SMTP and
             local delivery puts them into the mailboxes
  Dovecot    a throwaway Dovecot 2.3 instance on loopback (own configuration, base_dir,
             state_dir, passwd-file and Maildirs in a temporary directory), the same
             messages, byte for byte, written into its Maildirs

The load generator (perf/load/pop3_bench.cc) then runs against each server in turn,
interleaved, --runs times:

  retrieve   N connections, each logs in once (USER/PASS), STAT, LIST, and RETRs every
             message of its maildrop --passes times, then QUIT
  logins     N connections, each connects, logs in and QUITs again and again

The script prints msg/s, MB/s, logins/s, server and client CPU and the ratios, and
rewrites the generated block of the "POP3 retrieval: postcore vs Dovecot" section of
docs/perf.md (nothing else in that file).

Run as root from the repository (Dovecot's master needs root). Loopback only. Not for CI.
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
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import (Abort, free_port, free_port_base, log, machine_cpu_seconds, median_rows,  # noqa: E402
                     read_proc_table, tree_cpu_seconds, tree_pids, wait_greeting, wait_pid_gone)
from smtp_load import Deadline, git_revision, machine_info, repo_relative  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTION_HEADING = "## POP3 retrieval: postcore vs Dovecot"
BEGIN_MARK = "<!-- pop3_load.py: generated block begin (rewritten on every full run) -->"
END_MARK = "<!-- pop3_load.py: generated block end -->"
HAND_WRITTEN = (
    "### Reading the POP3 figures\n\n"
    "_Not yet written: what limits each server in the run above. pop3_load.py never "
    "rewrites this paragraph._\n"
)

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
DOMAIN = "example.test"
# dovecot: stock login processes (a new pop3-login process per connection);
# dovecot-hp: Dovecot's documented high-performance login mode.
SERVERS = ("postcore", "dovecot", "dovecot-hp")
MODES = ("retrieve", "logins")
POP3_OFFSET = 110
SMTP_OFFSET = 25


# ---------------------------------------------------------------- helpers

def run(argv, timeout=120, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Abort(f"{shlex.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-800:]}")
    return r


def run_daemon_command(argv, errfile, timeout=60):
    """Runs a command that may leave a daemon behind (`dovecot -c CONF`): its output goes
    to `errfile`, never to a pipe the daemon would keep open. Returns (status, output)."""
    with open(errfile, "ab+") as err:
        start = err.tell()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                           timeout=timeout)
        err.seek(start)
        return r.returncode, err.read().decode(errors="replace").strip()


def wait_pop3_ready(port, timeout, proc=None):
    """Waits for a +OK greeting on 127.0.0.1:port, then says QUIT."""
    wait_greeting(port, timeout, b"+OK", "POP3", proc)


def pop3_login_ok(port, user, password):
    """True if USER/PASS succeeds (and QUITs); False on -ERR or a connection problem."""
    import poplib
    try:
        p = poplib.POP3("127.0.0.1", port, timeout=10)
        try:
            p.user(user)
            p.pass_(password)
            count = p.stat()[0]
        finally:
            try:
                p.quit()
            except Exception:
                pass
        return count
    except Exception:
        return False


def make_messages(total, size, accounts, seed=1939):
    """`total` messages of about `size` octets (CRLF line ends), spread over the
    accounts in turn: {account: [bytes, ...]}. Deterministic for a given seed."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      "
    out = {a: [] for a in accounts}
    for i in range(total):
        to = accounts[i % len(accounts)]
        head = (f"From: Sender {i} <sender{i}@remote.example>\r\n"
                f"To: <{to}>\r\n"
                f"Subject: load message {i}\r\n"
                f"Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
                f"Message-ID: <load.{i}@remote.example>\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n"
                "\r\n")
        lines = [head]
        n = len(head)
        k = 0
        while n < size:
            # Now and then a line that starts with a dot: POP3 stuffs it.
            width = min(76, max(1, size - n - 2))
            line = "".join(rng.choice(letters) for _ in range(width))
            if k % 37 == 5:
                line = "." + line[1:]
            lines.append(line + "\r\n")
            n += len(line) + 2
            k += 1
        out[to].append("".join(lines).encode())
    return out


# ---------------------------------------------------------------- servers

class PostcorePop3:
    """`postcore up` on a fresh data directory for the whole run, with a domain, the
    accounts and their mail."""

    name = "postcore"

    def __init__(self, workdir, build_dir, scheme):
        self.workdir = workdir
        self.binary = os.path.join(build_dir, "postcore")
        self.ctl_binary = os.path.join(build_dir, "postcorectl")
        self.data_dir = os.path.join(workdir, "postcore-data")
        self.logfile = os.path.join(workdir, "postcore.log")
        self.scheme = scheme
        self.proc = None
        self.log_offset = 0

    def start(self):
        base = free_port_base()
        self.port = base + POP3_OFFSET
        self.smtp_port = base + SMTP_OFFSET
        argv = [self.binary, "up", "--data-dir", self.data_dir, "--port-base", str(base)]
        if self.scheme != "yescrypt":
            # Imported legacy hashes are kept as they are (no yescrypt at the first login),
            # so both servers check the same scheme on every run.
            with open(os.path.join(REPO, "hwprofiles", "dev.toml")) as f:
                text = f.read()
            if "rehash_on_login = true" not in text:
                raise Abort("hwprofiles/dev.toml has no `rehash_on_login = true` to turn off")
            profile = os.path.join(self.workdir, "postcore-profile.toml")
            with open(profile, "w") as f:
                f.write(text.replace("rehash_on_login = true", "rehash_on_login = false", 1))
            argv += ["--profile", profile]
        self.argv = argv
        self.errlog = open(self.logfile, "wb")
        self.proc = subprocess.Popen(argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self.errlog, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            wait_pop3_ready(self.port, 30, self.proc)
            end = time.monotonic() + 30
            while not os.path.exists(os.path.join(self.data_dir, "control.sock")):
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise Abort("the control plane did not come up")
                time.sleep(0.05)
        except Abort as e:
            raise Abort(f"postcore did not start: {e}\n{self.log_excerpt()}")

    def ctl(self, *args, stdin=None):
        return run([self.ctl_binary, "--data-dir", self.data_dir, *args], input=stdin)

    def version(self):
        r = run([self.binary, "--version"], check=False)
        return (r.stdout.strip() or "unknown").replace("postcore ", "")

    def add_accounts(self, accounts, password, sha512_hash=None):
        """Adds the domain and the accounts; returns {account: stored hash}."""
        self.ctl("domain", "add", DOMAIN)
        if sha512_hash:
            path = os.path.join(self.workdir, "accounts.tsv")
            with open(path, "w") as f:
                f.write("Name\tUnixPassword\tRealName\n")
                for a in accounts:
                    f.write(f"{a.split('@')[0]}\t{sha512_hash}\tLoad {a}\n")
            self.ctl("import", "accounts", path, "--domain", DOMAIN)
        else:
            for a in accounts:
                self.ctl("account", "add", a, "--password-stdin", stdin=password + "\n")
        out = self.ctl("export", "accounts", "--domain", DOMAIN).stdout
        hashes = {}
        for line in out.splitlines()[1:]:
            fields = line.split("\t")
            if len(fields) >= 2:
                hashes[fields[0]] = fields[1]
        missing = [a for a in accounts if a not in hashes]
        if missing:
            raise Abort(f"postcorectl export accounts lacks {missing[:3]}:\n{out[:500]}")
        # The accounts reach the dataplane with the next directory snapshot.
        end = time.monotonic() + 30
        while pop3_login_ok(self.port, accounts[-1], password) is False:
            if time.monotonic() > end:
                raise Abort(f"{accounts[-1]} cannot log in to postcore's POP3 after 30 s\n"
                            + self.log_excerpt())
            time.sleep(0.2)
        return hashes

    def fill(self, messages, timeout):
        """Sends every message over SMTP to its account and waits until the mailboxes
        hold them all; returns {account: [stored octets, ...]} in UID order."""
        sent = 0
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=60) as s:
            s.ehlo("load.example")
            for account, msgs in messages.items():
                for m in msgs:
                    s.sendmail("sender@remote.example", [account], m)
                    sent += 1
        log(f"postcore: sent {sent} messages over SMTP; waiting for delivery")
        end = time.monotonic() + timeout
        stored = {}
        for account, msgs in messages.items():
            while True:
                listed = self.inbox(account, content=True)
                if len(listed) >= len(msgs):
                    break
                if time.monotonic() > end:
                    raise Abort(f"postcore: {account} holds {len(listed)} of {len(msgs)} "
                                f"messages after {timeout} s\n{self.log_excerpt()}")
                time.sleep(0.2)
            if len(listed) != len(msgs):
                raise Abort(f"postcore: {account} holds {len(listed)} messages, "
                            f"expected {len(msgs)}")
            stored[account] = [m["content"].encode() for m in listed]
            for original, got in zip(msgs, stored[account]):
                if not got.endswith(original):
                    raise Abort(f"postcore: a stored message of {account} is not what "
                                "SMTP took")
        return stored

    def inbox(self, account, content=False):
        argv = [self.binary, "mailbox", "list", account, "--json", "--data-dir", self.data_dir]
        if content:
            argv.append("--content")
        r = run(argv, check=False, timeout=120)
        if r.returncode != 0:
            return []
        doc = json.loads(r.stdout)
        return next((f["messages"] for f in doc.get("folders", []) if f["name"] == "INBOX"),
                    [])

    def cpu_seconds(self):
        return tree_cpu_seconds(self.proc.pid)

    def mark(self):
        self.log_offset = os.path.getsize(self.logfile)

    def log_excerpt(self, n=10):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def check(self):
        problems = []
        if self.proc.poll() is not None:
            problems.append(f"postcore exited during the run (status {self.proc.returncode})")
        with open(self.logfile, errors="replace") as f:
            f.seek(self.log_offset)
            lines = f.readlines()
        # Log lines are "<priority>component: message"; 0-3 are errors, 4 warnings.
        bad = [l.rstrip() for l in lines if re.match(r"<[0-4]>", l)]
        restarts = [l.rstrip() for l in lines if "restart" in l.lower()]
        if bad:
            problems.append(f"postcore logged {len(bad)} warnings/errors, e.g.: "
                            + " | ".join(bad[:3]))
        if restarts:
            problems.append("postcore supervisor: " + " | ".join(restarts[:3]))
        return problems

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                table = read_proc_table()
                for pid in tree_pids(self.proc.pid, table):
                    if pid != self.proc.pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.errlog.close()


class DovecotInstance:
    """A throwaway Dovecot: its own configuration, base_dir, state_dir, log, passwd-file
    and Maildirs under workdir; one pop3 listener on a loopback port. /etc/dovecot is
    never read or changed. Mail is owned by, and served as, `nobody`."""

    MAIL_USER = "nobody"
    MAIL_GROUP = "nogroup"

    def __init__(self, workdir, name):
        self.name = name
        self.login_mode = "performance" if name == "dovecot-hp" else "stock"
        self.base = os.path.join(workdir, name)
        self.conf = os.path.join(self.base, "dovecot.conf")
        self.run_dir = os.path.join(self.base, "run")
        self.state_dir = os.path.join(self.base, "state")
        self.mail_root = os.path.join(self.base, "mail")
        self.passwd = os.path.join(self.base, "passwd")
        self.logfile = os.path.join(self.base, "dovecot.log")
        self.master_pid = None
        self.started = False
        self.log_offset = 0

    def _config(self):
        import pwd
        import grp
        uid = pwd.getpwnam(self.MAIL_USER).pw_uid
        gid = grp.getgrnam(self.MAIL_GROUP).gr_gid
        lines = [
            f"instance_name = pop3load-{self.name}-{os.getpid()}",
            f"base_dir = {self.run_dir}",
            f"state_dir = {self.state_dir}",
            f"log_path = {self.logfile}",
            "protocols = pop3",
            "listen = 127.0.0.1",
            "ssl = no",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain",
            f"mail_location = maildir:~/Maildir",
            "mail_privileged_group =",
            f"first_valid_uid = {min(uid, 500)}",
            "passdb {",
            "  driver = passwd-file",
            f"  args = username_format=%u {self.passwd}",
            "}",
            "userdb {",
            "  driver = static",
            f"  args = uid={uid} gid={gid} home={self.mail_root}/%u",
            "}",
            "service pop3-login {",
            "  inet_listener pop3 {",
            f"    address = 127.0.0.1",
            f"    port = {self.port}",
            "  }",
            "  inet_listener pop3s {",
            "    port = 0",
            "  }",
        ]
        if self.login_mode == "performance":
            # Dovecot's documented high-performance login mode: long-lived login
            # processes, one per CPU, each serving many connections.
            lines += ["  service_count = 0",
                      f"  process_min_avail = {len(os.sched_getaffinity(0))}"]
        lines += [
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    port = 0",
            "  }",
            "  inet_listener imaps {",
            "    port = 0",
            "  }",
            "}",
            "",
        ]
        return "\n".join(lines)

    def prepare(self, hashes, password_scheme_prefix, stored):
        """Writes the configuration, the passwd-file ({account: hash}) and a Maildir per
        account holding `stored` ({account: [octets, ...]}, CRLF line ends, written with
        LF ends as Dovecot's Maildir keeps them, with S= and W= sizes in the names)."""
        import pwd
        import grp
        uid = pwd.getpwnam(self.MAIL_USER).pw_uid
        gid = grp.getgrnam(self.MAIL_GROUP).gr_gid
        self.port = free_port()
        for d in (self.base, self.run_dir, self.state_dir, self.mail_root):
            os.makedirs(d, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(self._config())
        with open(self.passwd, "w") as f:
            for account, h in hashes.items():
                f.write(f"{account}:{password_scheme_prefix}{h}::::::\n")
        os.chmod(self.passwd, 0o644)
        t0 = 1764590400  # 2025-12-01: maildir names sort (and get UIDs) in message order
        for account, msgs in stored.items():
            home = os.path.join(self.mail_root, account)
            md = os.path.join(home, "Maildir")
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub), exist_ok=True)
            for i, m in enumerate(msgs):
                lf = m.replace(b"\r\n", b"\n")
                name = f"{t0 + i}.M{i:06d}P1.pop3load,S={len(lf)},W={len(m)}:2,"
                with open(os.path.join(md, "cur", name), "wb") as f:
                    f.write(lf)
            for dirpath, dirnames, filenames in os.walk(home):
                os.chown(dirpath, uid, gid)
                for fn in filenames:
                    os.chown(os.path.join(dirpath, fn), uid, gid)

    def start(self):
        rc, out = run_daemon_command([DOVECOT, "-c", self.conf], self.base + "/commands.out")
        self.started = True
        if rc != 0:
            raise Abort(f"dovecot -c {self.conf} failed ({rc}): {out}\n{self.log_excerpt()}")
        pidfile = os.path.join(self.run_dir, "master.pid")
        end = time.monotonic() + 20
        while not os.path.exists(pidfile):
            if time.monotonic() > end:
                raise Abort(f"Dovecot wrote no {pidfile}\n{self.log_excerpt()}")
            time.sleep(0.05)
        with open(pidfile) as f:
            self.master_pid = int(f.read().strip())
        wait_pop3_ready(self.port, 20)

    def version(self):
        r = run([DOVECOT, "--version"], check=False)
        return r.stdout.strip().split()[0] if r.stdout.strip() else "unknown"

    def cpu_seconds(self):
        return tree_cpu_seconds(self.master_pid)

    def mark(self):
        try:
            self.log_offset = os.path.getsize(self.logfile)
        except OSError:
            self.log_offset = 0

    def log_excerpt(self, n=10):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def check(self):
        problems = []
        if self.master_pid and not os.path.exists(f"/proc/{self.master_pid}"):
            problems.append("Dovecot's master exited during the run")
        try:
            with open(self.logfile, errors="replace") as f:
                f.seek(self.log_offset)
                lines = f.readlines()
        except OSError:
            lines = []
        bad = [l.rstrip() for l in lines
               if re.search(r"\b(Warning|Error|Fatal|Panic):", l)]
        if bad:
            problems.append(f"Dovecot logged {len(bad)} warnings/errors, e.g.: "
                            + " | ".join(bad[:3]))
        return problems

    def stop(self):
        if not self.started:
            return
        run_daemon_command([DOVECOT, "-c", self.conf, "stop"], self.base + "/commands.out")
        if self.master_pid and not wait_pid_gone(self.master_pid, 20):
            try:
                os.kill(self.master_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_pid_gone(self.master_pid, 10)
        self.started = False


# ---------------------------------------------------------------- load

def bench_binary(args, workdir):
    """The load generator: the build's, else compiled here with g++."""
    built = os.path.join(os.path.abspath(args.build), "perf", "load", "pop3_bench")
    if args.bench:
        return os.path.abspath(args.bench)
    if os.access(built, os.X_OK) and (os.path.getmtime(built) >= os.path.getmtime(
            os.path.join(REPO, "perf", "load", "pop3_bench.cc"))):
        return built
    out = os.path.join(workdir, "pop3_bench")
    src = os.path.join(REPO, "perf", "load", "pop3_bench.cc")
    log(f"compiling {repo_relative(src)} (no up-to-date {built})")
    run(["g++", "-O2", "-std=c++20", "-o", out, src], timeout=300)
    return out


def bench_argv(binary, server, mode, args, accounts_file, warmup=False):
    argv = [binary, "--port", str(server.port), "--accounts", accounts_file,
            "--mode", mode, "--connections", str(args.connections),
            "--timeout", str(args.timeout)]
    if mode == "retrieve":
        argv += ["--passes", str(1 if warmup else args.passes),
                 "--pipeline", str(args.pipeline)]
    else:
        argv += ["--logins", str(args.connections if warmup else args.logins)]
    if args.auth == "plain":
        argv.append("--auth-plain")
    return argv


def run_bench(argv, timeout):
    """Runs pop3_bench; returns (its JSON report or None, exit status, stderr)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    report = None
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                pass
    return report, proc.returncode, err.decode(errors="replace").strip()


def one_run(server, mode, args, binary, accounts_file, expected, deadline):
    server.mark()
    cpu0 = server.cpu_seconds()
    busy0, steal0 = machine_cpu_seconds()
    t0 = time.monotonic()
    argv = bench_argv(binary, server, mode, args, accounts_file)
    report, rc, err = run_bench(argv, min(args.timeout, deadline.left()))
    wall = time.monotonic() - t0
    busy1, steal1 = machine_cpu_seconds()
    cpu = server.cpu_seconds() - cpu0
    problems = []
    if report is None:
        problems.append(f"pop3_bench gave no report (exit {rc}): {err[-300:]}")
        report = {}
    client_cpu = report.get("client_cpu_seconds", 0.0)
    seconds = report.get("seconds", wall) or wall
    if rc != 0 and report:
        problems.append(f"pop3_bench: {report.get('errors')} errors, "
                        f"{report.get('size_mismatches')} size mismatches, "
                        f"{report.get('in_use')} [IN-USE]; first: {report.get('first_error')}")
    if mode == "retrieve" and report and report.get("messages") != expected["messages"]:
        problems.append(f"retrieved {report.get('messages')} messages, "
                        f"expected {expected['messages']}")
    if mode == "logins" and report and report.get("logins") != args.logins:
        problems.append(f"{report.get('logins')} logins, expected {args.logins}")
    problems += server.check()
    capacity = seconds * len(os.sched_getaffinity(0))
    other = max(0.0, busy1 - busy0 - cpu - client_cpu)
    ok = not problems
    r = {"server": server.name, "mode": mode, "ok": ok, "seconds": seconds,
         "messages": report.get("messages", 0), "bytes": report.get("bytes", 0),
         "logins": report.get("logins", 0), "server_cpu": cpu, "client_cpu": client_cpu,
         "other_pct": 100 * other / capacity if capacity else 0.0,
         "steal_pct": 100 * (steal1 - steal0) / capacity if capacity else 0.0,
         "problems": problems, "argv": argv, "report": report}
    if mode == "retrieve":
        units = max(1, r["messages"])
        r["rate"] = r["messages"] / seconds
        r["mb_s"] = r["bytes"] / seconds / 1e6
    else:
        units = max(1, r["logins"])
        r["rate"] = r["logins"] / seconds
        r["mb_s"] = 0.0
    r["client_busy_pct"] = 100 * client_cpu / seconds if seconds else 0.0
    r["server_ms"] = 1000 * cpu / units
    r["client_ms"] = 1000 * client_cpu / units
    return r


def profile_postcore(server, args, binary, accounts_file, deadline, workdir, out_path):
    """One extra retrieve run with `perf record` on postcore's processes."""
    pids = ",".join(str(p) for p in tree_pids(server.proc.pid, read_proc_table()))
    data = os.path.join(workdir, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o", data, "-p", pids],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.5)
        argv = bench_argv(binary, server, "retrieve", args, accounts_file)
        report, rc, err = run_bench(argv, min(args.timeout, deadline.left()))
    finally:
        perf.send_signal(signal.SIGINT)
        try:
            perf.wait(60)
        except subprocess.TimeoutExpired:
            perf.kill()
            perf.wait()
    reports = []
    for title, extra in (
            ("by command and shared object", ["--no-children", "--sort", "comm,dso"]),
            ("by symbol, self time", ["--no-children", "--sort", "sym"]),
            ("by symbol, including callees", ["--children", "--sort", "sym",
                                              "--percent-limit", "4"])):
        r = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none",
                            "--percent-limit", "0.7"] + extra,
                           capture_output=True, text=True, timeout=300)
        body = "\n".join(l for l in r.stdout.splitlines() if l and not l.startswith("#"))
        reports.append(f"== {title}\n{body}\n")
    with open(out_path, "w") as f:
        f.write(f"perf record -F 1999 -g on postcore (supervisor + dataplane) during "
                f"{shlex.join(argv)}\n{json.dumps(report)}\n\n" + "\n".join(reports))
    log(f"profile written to {out_path}")


# ---------------------------------------------------------------- report

UNIT = {"retrieve": "msg/s", "logins": "logins/s"}
PER = {"retrieve": "msg", "logins": "login"}




def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "—"


def table_lines(rows, servers, modes, versions):
    label = {"postcore": f"postcore {versions['postcore']}",
             "dovecot": f"Dovecot {versions['dovecot']}",
             "dovecot-hp": f"Dovecot {versions['dovecot']}, high-performance login"}
    lines = ["| server | load | rate (median) | rate (min–max) | MB/s | server CPU ms per "
             "unit | pop3_bench CPU ms per unit | pop3_bench busy, % of one CPU | rate vs "
             "Dovecot | server CPU vs Dovecot | other work, % of CPUs |", "|" + " --- |" * 11]
    for m in modes:
        for s in servers:
            what = {"retrieve": "RETR", "logins": "USER/PASS/QUIT"}[m]
            if (s, m) not in rows or rows[(s, m)] is None:
                state = "failed" if (s, m) in rows else "not run"
                lines.append(f"| {label[s]} | {what} | {state} | | | | | | | | |")
                continue
            r = rows[(s, m)]
            dv = rows.get(("dovecot", m))
            mb = f"{r['mb_s']:.1f}" if m == "retrieve" else "—"
            lines.append(
                f"| {label[s]} | {what} | {r['rate']:.0f} {UNIT[m]} | "
                f"{r['rate_min']:.0f}–{r['rate_max']:.0f} | {mb} | "
                f"{r['server_ms']:.3f} per {PER[m]} | {r['client_ms']:.3f} per {PER[m]} | "
                f"{r['client_busy_pct']:.0f} | "
                f"{fmt_ratio(r['rate'], dv and dv['rate'])} | "
                f"{fmt_ratio(r['server_ms'], dv and dv['server_ms'])} | "
                f"{r['other_pct']:.0f} |")
    return lines


def generated_block(command, rows, results, args, info, versions, setup, problems):
    per_account = args.messages // args.connections
    out = [
        BEGIN_MARK,
        "",
        f"Command (run from the repository root, as root): `{command}`",
        "",
        f"Run {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: "
        f"{info['vm']}, {info['cpus']} CPUs ({info['cpu']}), {info['mem']} RAM, "
        f"Linux {info['kernel']}, mail on {info['fs']}. Versions: postcore "
        f"{versions['postcore']} (git {versions['git']}, build `{args.build}`), Dovecot "
        f"{versions['dovecot']} (Debian package `dovecot-pop3d`).",
        "",
        f"Mail: {args.messages} messages of {args.size} octets as sent (postcore adds "
        f"Return-Path and Received, about {setup['added']} octets; Dovecot gets the very "
        f"same octets), {per_account} in each of {args.connections} accounts. Passwords: "
        f"{setup['scheme_text']}, the same hash in both servers. Load: "
        f"`perf/load/pop3_bench` ({'AUTH PLAIN' if args.auth == 'plain' else 'USER/PASS'}), "
        f"{args.connections} parallel connections, each on its own account. *RETR*: one "
        f"login per connection, STAT, LIST, then every message RETRed {args.passes} times "
        f"over ({args.messages * args.passes} messages a run), "
        f"{'one command at a time' if args.pipeline == 1 else f'{args.pipeline} RETRs in flight'}"
        f", QUIT. *USER/PASS/QUIT*: {args.logins} logins a run, each on a new connection. "
        f"Each (server, load) pair ran {args.runs} time(s), interleaved; the table shows "
        "medians. Client and servers share the same cores, so the figures are indicative.",
        "",
    ]
    out += table_lines(rows, args.servers, args.modes, versions)
    out += [
        "",
        "How it is measured:",
        "",
        "- Rate: messages (or logins) ÷ pop3_bench's wall time, first connect to last close "
        "(so *RETR* includes its logins). Every RETR answer is read to its terminating "
        "`.` line, un-stuffed and its octets checked against LIST; MB/s counts those "
        "octets (10⁶ bytes). A run with any `-ERR`, dropped connection, size mismatch, "
        "missing message or server warning is reported as failed.",
        "- Server CPU: user + system time of the server's whole process tree from `/proc` "
        "(each live process's own time plus its reaped children's, so Dovecot's "
        "per-connection login and pop3 processes are counted), sampled just before and "
        "just after pop3_bench, per message retrieved or per login.",
        "- pop3_bench CPU: its own rusage (one thread, epoll); *busy* is that CPU time over "
        "its wall time, so well below 100 % means the client was not what limited the "
        "rate. Ratios are to Dovecot with stock login processes. On loopback the kernel's TCP "
        "work for both ends is split between sender and receiver in no fixed way, so read "
        "server and client CPU together.",
        "- Other work: the machine's busy CPU time (`/proc/stat`) during the run minus the "
        "server's and pop3_bench's, as a share of all CPUs.",
        "- Before the measured runs each server had one unmeasured run of each load (one "
        "pass of RETR, one login per connection): Dovecot builds its indexes then, and "
        "both servers' message octets are in the page cache for every measured run.",
        f"- Dovecot: a throwaway instance (`dovecot -c CONF`; own `base_dir`, `state_dir`, "
        "`log_path`; `protocols = pop3`, one pop3 listener on a loopback port, "
        "`ssl = no`, `disable_plaintext_auth = no`; passdb passwd-file with "
        "`{CRYPT}`/`{SHA512-CRYPT}` hashes, userdb static; `mail_location = "
        "maildir:~/Maildir`, the Maildir files written directly with LF line ends and "
        "`S=`/`W=` sizes in their names). *Dovecot*: stock login processes "
        "(`service_count = 1`: a new pop3-login process per connection); *high-performance "
        "login*: a second such instance with Dovecot's documented high-performance login "
        "mode (`service pop3-login { service_count = 0, process_min_avail = CPUs }`). "
        "Everything else is Dovecot's default (one pop3 process per session, no auth "
        "cache, auth-worker processes for the password checks).",
        "- postcore: `postcore up --data-dir FRESH_DIR --port-base N` on the embedded "
        "`hwprofiles/dev.toml`"
        + (" with `rehash_on_login = false` (imported hashes stay as they are)"
           if args.scheme != "yescrypt" else "")
        + "; the messages went in over SMTP and local delivery stored them.",
    ]
    if problems:
        out += ["", "Problems seen during this run:", ""]
        out += [f"- {p}" for p in problems]
    out += ["", "<details><summary>Every run</summary>", "",
            "| # | server | load | seconds | messages | logins | rate | MB/s | server CPU s | "
            "pop3_bench CPU s | other work, % of CPUs | steal, % of CPUs |",
            "|" + " --- |" * 12]
    for i, r in enumerate(results, 1):
        out.append(
            f"| {i} | {r['server']} | {r['mode']} | {r['seconds']:.2f} | {r['messages']} | "
            f"{r['logins']} | {r['rate']:.0f}{'' if r['ok'] else ' (failed)'} | "
            f"{r['mb_s']:.1f} | {r['server_cpu']:.2f} | {r['client_cpu']:.2f} | "
            f"{r['other_pct']:.0f} | {r['steal_pct']:.0f} |")
    out += ["", "</details>", "", END_MARK]
    return "\n".join(out) + "\n"


def write_docs(path, block):
    """Replaces the generated block inside our section of docs/perf.md; adds the section
    (after the SMTP one's, before the micro-benchmarks) if missing. Nothing else changes."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Performance\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION_HEADING), None)
    if start is None:
        new = f"{SECTION_HEADING}\n\n{block}\n{HAND_WRITTEN}\n"
        at = next((i for i, l in enumerate(lines)
                   if l.startswith("## ") and i > 0 and
                   not l.startswith("## SMTP ingest")), None)
        if at is None:
            text = text.rstrip("\n") + "\n\n" + new
        else:
            text = "".join(lines[:at]) + new + "".join(lines[at:])
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
            section = "\n" + block + "\n" + section.lstrip("\n")
        text = "".join(lines[:start + 1]) + section + "".join(lines[end:])
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- main

def parse_args():
    p = argparse.ArgumentParser(
        description="POP3 load run: postcore vs Dovecot (see perf/load/README.md).")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="build directory holding postcore and postcorectl")
    p.add_argument("--bench", help="the pop3_bench binary (default: BUILD/perf/load/"
                                   "pop3_bench if up to date, else compiled with g++)")
    p.add_argument("--runs", type=int, default=3, help="runs per (server, load); median")
    p.add_argument("--messages", type=int, default=1000,
                   help="messages in all (default 1000), spread over the accounts")
    p.add_argument("--size", type=int, default=10240, help="message octets (default 10240)")
    p.add_argument("--connections", type=int, default=10,
                   help="parallel connections = accounts (default 10, at most 50)")
    p.add_argument("--passes", type=int, default=50,
                   help="retrieve: times every message is RETRed per session (default 50)")
    p.add_argument("--pipeline", type=int, default=1,
                   help="retrieve: RETRs in flight per connection (default 1)")
    p.add_argument("--logins", type=int, default=1000,
                   help="logins: logins per run (default 1000)")
    p.add_argument("--auth", choices=("user", "plain"), default="user",
                   help="USER/PASS (default) or AUTH PLAIN")
    p.add_argument("--scheme", choices=("yescrypt", "sha512-crypt"), default="yescrypt",
                   help="password hash in both servers: postcore's own yescrypt (default) "
                        "or an imported SHA512-CRYPT")
    p.add_argument("--servers", default=",".join(SERVERS),
                   help="comma-separated subset of postcore,dovecot,dovecot-hp (Dovecot with "
                        "stock login processes, and in high-performance login mode)")
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated subset of retrieve,logins")
    p.add_argument("--timeout", type=int, default=300, help="limit for one pop3_bench run, s")
    p.add_argument("--deadline", type=int, default=None,
                   help="limit for the whole script, seconds (default 1800; 300 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 run each, 50 messages, 1 pass, 50 logins, docs not "
                        "written")
    p.add_argument("--output", default=os.path.join(REPO, "docs", "perf.md"),
                   help="the perf document to update (default: the repository's docs/perf.md)")
    p.add_argument("--write", action="store_true", help="update --output even with --quick")
    p.add_argument("--no-write", action="store_true", help="only print, never update --output")
    p.add_argument("--profile", metavar="FILE",
                   help="after the runs, profile postcore with perf during one more "
                        "retrieve run and write the report to FILE")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory (logs, both servers' data) for a look")
    args = p.parse_args()
    if args.quick:
        args.runs = 1
        args.messages = 50
        args.passes = 1
        args.logins = 50
    args.servers = [s for s in args.servers.split(",") if s]
    args.modes = [m for m in args.modes.split(",") if m]
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s}")
    for m in args.modes:
        if m not in MODES:
            p.error(f"unknown mode {m}")
    if not 1 <= args.connections <= 50:
        # postcore's dev profile admits 50 POP3 connections per client address.
        p.error("--connections: 1 to 50")
    if args.messages < args.connections or args.messages % args.connections:
        p.error("--messages must be a multiple of --connections")
    if args.runs < 1 or args.passes < 1 or args.pipeline < 1 or args.logins < 1:
        p.error("--runs, --passes, --pipeline and --logins must be positive")
    if args.deadline is None:
        args.deadline = 300 if args.quick else 1800
    args.write_docs = not args.no_write and (args.write or not args.quick)
    args.output = os.path.abspath(args.output)
    return args


def on_signal(signum, frame):
    raise Abort(f"stopped by signal {signum}")


def main():
    args = parse_args()
    command = shlex.join(["perf/load/pop3_load.py"] + sys.argv[1:])
    if any(s.startswith("dovecot") for s in args.servers):
        if not (os.access(DOVECOT, os.X_OK) and os.access(DOVEADM, os.X_OK)):
            sys.exit("pop3_load.py: Dovecot is missing: apt-get install dovecot-pop3d "
                     "(Debian's Dovecot 2.3; /etc/dovecot is never used here)")
        if os.geteuid() != 0:
            sys.exit("pop3_load.py: Dovecot's master needs root here (run as root)")
    build_dir = os.path.abspath(args.build)
    args.build = repo_relative(build_dir)
    if "postcore" in args.servers or args.scheme == "yescrypt":
        for b in ("postcore", "postcorectl"):
            if not os.access(os.path.join(build_dir, b), os.X_OK):
                sys.exit(f"pop3_load.py: {build_dir}/{b} not found (build it, or pass --build)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(args.deadline + 120)
    deadline = Deadline(args.deadline)

    workdir = tempfile.mkdtemp(prefix="pop3_load.", dir="/var/tmp")
    os.chmod(workdir, 0o755)  # Dovecot's processes run as other users
    servers = {}
    results, problems = [], []
    status = 0
    versions = {"postcore": "unknown", "dovecot": "unknown", "git": git_revision()}
    setup = {}
    try:
        binary = bench_binary(args, workdir)
        accounts = [f"pop{i:02d}@{DOMAIN}" for i in range(args.connections)]
        password = "load-" + "".join(random.choice("abcdefghjkmnpqrstuvwxyz23456789")
                                     for _ in range(12))
        accounts_file = os.path.join(workdir, "accounts.txt")
        with open(accounts_file, "w") as f:
            for a in accounts:
                f.write(f"{a}\t{password}\n")
        messages = make_messages(args.messages, args.size, accounts)
        sha512 = None
        if args.scheme == "sha512-crypt":
            sha512 = run([DOVEADM, "pw", "-s", "SHA512-CRYPT", "-p", password]).stdout.strip()
            sha512 = sha512.removeprefix("{SHA512-CRYPT}")
        # postcore is filled first: Dovecot gets exactly the octets postcore stored.
        pc = PostcorePop3(workdir, build_dir, args.scheme)
        servers["postcore"] = pc
        versions["postcore"] = pc.version()
        log(f"pop3_load: starting postcore; work directory {workdir}")
        pc.start()
        hashes = pc.add_accounts(accounts, password, sha512)
        scheme_prefix = "{CRYPT}" if args.scheme == "yescrypt" else "{SHA512-CRYPT}"
        sample = next(iter(hashes.values()))
        setup["scheme_text"] = ("yescrypt (`$y$`, made by `postcorectl account add`; "
                                "Dovecot checks it as `{CRYPT}` through libcrypt)"
                                if args.scheme == "yescrypt" else
                                "SHA512-CRYPT (`$6$`, imported into postcore with "
                                "`postcorectl import accounts`; `{SHA512-CRYPT}` in Dovecot)")
        if args.scheme == "yescrypt" and not sample.startswith("$y$"):
            raise Abort(f"postcore stored {sample[:8]}…, not a yescrypt hash")
        t = time.monotonic()
        stored = pc.fill(messages, min(600, deadline.left()))
        log(f"postcore: {args.messages} messages in the mailboxes after "
            f"{time.monotonic() - t:.1f} s")
        sizes = [len(m) for ms in stored.values() for m in ms]
        setup["added"] = round(statistics.mean(sizes)) - args.size
        expected = {"messages": args.messages * args.passes}
        for name in (s for s in args.servers if s.startswith("dovecot")):
            dv = DovecotInstance(workdir, name)
            dv.prepare(hashes, scheme_prefix, stored)
            servers[name] = dv
            versions["dovecot"] = dv.version()
            log(f"{name}: starting Dovecot {versions['dovecot']} on port {dv.port}")
            dv.start()
            n = pop3_login_ok(dv.port, accounts[0], password)
            if n is False:
                raise Abort(f"{accounts[0]} cannot log in to Dovecot\n{dv.log_excerpt()}")
            if n != len(stored[accounts[0]]):
                raise Abort(f"Dovecot lists {n} messages for {accounts[0]}, expected "
                            f"{len(stored[accounts[0]])}")
        if "postcore" not in args.servers:
            pc.stop()
        # One unmeasured run of each load per server.
        for name in args.servers:
            for mode in args.modes:
                argv = bench_argv(binary, servers[name], mode, args, accounts_file,
                                  warmup=True)
                report, rc, err = run_bench(argv, min(args.timeout, deadline.left()))
                log(f"warm-up {name:10} {mode:8}: "
                    f"{json.dumps(report) if report else f'no report (exit {rc}) {err}'}")
                if rc != 0:
                    problems.append(f"warm-up ({name}, {mode}): "
                                    f"{(report or {}).get('first_error') or err}")
        for rep in range(1, args.runs + 1):
            for mode in args.modes:
                for name in args.servers:
                    deadline.left()
                    r = one_run(servers[name], mode, args, binary, accounts_file, expected,
                                deadline)
                    results.append(r)
                    unit = UNIT[mode]
                    log(f"[{rep}/{args.runs}] {name:10} {mode:8} {r['seconds']:7.2f} s "
                        f"{r['rate']:9.0f} {unit:8} {r['mb_s']:7.1f} MB/s  server CPU "
                        f"{r['server_ms']:.3f} ms/{PER[mode]}  client {r['client_ms']:.3f} "
                        f"ms/{PER[mode]}  other work {r['other_pct']:.0f} %"
                        f"{'' if r['ok'] else '  FAILED'}")
                    for p in r["problems"]:
                        log(f"    problem: {p}")
                        problems.append(f"run {len(results)} ({name}, {mode}): "
                                        + p.splitlines()[0])
        if args.profile and "postcore" in args.servers:
            profile_postcore(servers["postcore"], args, binary, accounts_file, deadline,
                             workdir, os.path.abspath(args.profile))
    except Abort as e:
        log(f"pop3_load: aborted: {e}")
        status = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for server in servers.values():
            try:
                server.stop()
            except Exception as e:  # keep stopping the others
                log(f"pop3_load: stopping {server.name}: {e}")
        signal.alarm(0)
        info = machine_info(workdir)
        if args.keep:
            log(f"pop3_load: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if not results:
        return 1
    rows = median_rows(results, args.servers, args.modes,
                       ("mb_s", "server_ms", "client_ms", "client_busy_pct", "other_pct"))
    log("")
    for line in table_lines(rows, args.servers, args.modes, versions):
        log(line)
    if any(not r["ok"] for r in results):
        status = 1
    if args.write_docs and status == 0:
        block = generated_block(command, rows, results, args, info, versions, setup,
                                problems)
        write_docs(args.output, block)
        log(f"\nwrote {repo_relative(args.output)}")
    elif args.write_docs:
        log(f"\n{repo_relative(args.output)} left unchanged: the run had failures")
    return status


if __name__ == "__main__":
    sys.exit(main())
