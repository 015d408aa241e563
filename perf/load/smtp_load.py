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


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import *  # noqa: E402,F403  (the servers and their constants)

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
    rows = median_rows(results, args.servers, args.modes,
                       ("cpu_ingest_ms", "cpu_total_ms", "client_ms", "other_pct"),
                       first=("messages",))
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
