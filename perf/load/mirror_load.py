#!/usr/bin/env python3
"""Mirrored volumes under SMTP load: durable ingest with 1, 2 and 3 members in one run,
the speed of a scrub and of a resilver, and what each costs ingest while it runs.

Each configuration is `postcore up` on a fresh data directory with hwprofiles/dev.toml plus
a [[volumes]] set of N member directories (disk1..diskN under the data directory). Load
is Postfix's smtp-source: --messages messages of --size bytes over --sessions reused
sessions. Configurations alternate within each of --runs rounds; the median is reported.

Then, with two members and the spool filled by one more ingest:
  scrub     `postcorectl volume scrub`, unpaced (maintenance_rate 10G): MB read per second
  resilver  disk2 removed and `postcorectl volume replace disk2`, unpaced: MB per second
and the same two again at the default maintenance_rate (100M) with smtp-source running,
reporting ingest as a share of the two-member figure.

All members share this machine's one disk, so the figures show what mirroring costs in
CPU and in fdatasync waits, not what two real disks would give. Rewrites the generated
block of the "Mirrored volumes" section of docs/perf.md. Loopback only. Not for CI.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import (SMTP_SOURCE, SENDER, RECIPIENT, CLIENT_NAME, free_port_base,  # noqa: E402
                     wait_smtp_ready, tree_cpu_seconds)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTION_HEADING = "## Mirrored volumes"
BEGIN_MARK = "<!-- mirror_load.py: generated block begin -->"
END_MARK = "<!-- mirror_load.py: generated block end -->"


def profile_text(members, rate):
    with open(os.path.join(REPO, "hwprofiles", "dev.toml")) as f:
        text = f.read()
    names = ", ".join(f'"disk{i + 1}"' for i in range(members))
    return text + f'\n[[volumes]]\nmembers = [{names}]\nmaintenance_rate = "{rate}"\n'


class Appliance:
    def __init__(self, build, workdir, members, rate="100M"):
        self.build = build
        self.data_dir = os.path.join(workdir, f"data-{members}-{time.monotonic_ns()}")
        os.makedirs(self.data_dir)
        self.profile = os.path.join(workdir, f"profile-{members}.toml")
        with open(self.profile, "w") as f:
            f.write(profile_text(members, rate))
        self.log = open(os.path.join(workdir, f"postcore-{members}.log"), "ab")
        self.proc = None

    def start(self):
        base = free_port_base()
        self.port = base + 25
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "postcore"), "up", "--profile", self.profile,
             "--data-dir", self.data_dir, "--port-base", str(base)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_smtp_ready(self.port, 30, self.proc)
        end = time.monotonic() + 30
        while not os.path.exists(os.path.join(self.data_dir, "control.sock")):
            if time.monotonic() > end:
                raise RuntimeError("the control plane did not come up")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)

    def ctl(self, *args):
        r = subprocess.run([os.path.join(self.build, "postcorectl"), "--data-dir", self.data_dir,
                            "--json", *args], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"postcorectl {' '.join(args)}: {r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def wait_activity(self, name, timeout=600):
        end = time.monotonic() + timeout
        while True:
            state = self.ctl("volume", "status")[name]
            if "done at" in state:
                return state
            if "failed" in state or time.monotonic() > end:
                raise RuntimeError(f"{name}: {state}")
            time.sleep(0.05)

    def spool_bytes(self, member="disk1"):
        total = 0
        for dirpath, _, names in os.walk(os.path.join(self.data_dir, member, "spool")):
            total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
        return total


def ingest(app, args, messages=None):
    """Runs smtp-source against `app`; returns messages per second."""
    messages = messages or args.messages
    argv = [SMTP_SOURCE, "-4", "-d", "-s", str(args.sessions), "-l", str(args.size),
            "-m", str(messages), "-f", SENDER, "-t", RECIPIENT, "-M", CLIENT_NAME,
            f"127.0.0.1:{app.port}"]
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout)
    wall = time.monotonic() - t0
    if r.returncode != 0 or r.stdout.strip() or r.stderr.strip():
        raise RuntimeError(f"smtp-source: {r.returncode} {r.stdout[-300:]} {r.stderr[-300:]}")
    return messages / wall


def while_running(app, args, start_job, name):
    """Ingest rate while a job runs at the default pace (the job starts first)."""
    start_job()
    rate = ingest(app, args)
    app.wait_activity(name)
    return rate


def timed_job(app, start_job, name):
    t0 = time.monotonic()
    start_job()
    state = app.wait_activity(name)
    return time.monotonic() - t0, state


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--output", default=os.path.join(REPO, "docs", "perf.md"))
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="mirror-load-")
    try:
        rates = {1: [], 2: [], 3: []}
        for run in range(args.runs):
            for members in (1, 2, 3):
                app = Appliance(args.build, workdir, members)
                app.start()
                try:
                    rates[members].append(ingest(app, args))
                finally:
                    app.stop()
                shutil.rmtree(app.data_dir)
                print(f"run {run + 1}: {members} member(s): {rates[members][-1]:.0f} msg/s",
                      flush=True)
        median = {n: statistics.median(r) for n, r in rates.items()}

        # Scrub and resilver, unpaced, on a spool holding one more ingest.
        fast = Appliance(args.build, workdir, 2, rate="10G")
        fast.start()
        ingest(fast, args)
        fast.stop()  # a clean stop seals the segments the scrub reads
        fast.start()
        spool = fast.spool_bytes()
        scrub_s, scrub_state = timed_job(fast, lambda: fast.ctl("volume", "scrub"), "scrub")
        shutil.rmtree(os.path.join(fast.data_dir, "disk2"))
        end = time.monotonic() + 10
        while fast.ctl("volume", "status")["members"][1]["state"] != "degraded":
            if time.monotonic() > end:
                raise RuntimeError("disk2 was not marked degraded")
            time.sleep(0.05)
        resilver_s, resilver_state = timed_job(
            fast, lambda: fast.ctl("volume", "replace", "disk2"), "resilver")
        fast.stop()
        shutil.rmtree(fast.data_dir)

        # The same jobs at the default pace, with ingest running beside them.
        paced = Appliance(args.build, workdir, 2)
        paced.start()
        ingest(paced, args)
        paced.stop()
        paced.start()
        during_scrub = while_running(paced, args, lambda: paced.ctl("volume", "scrub"), "scrub")
        shutil.rmtree(os.path.join(paced.data_dir, "disk2"))
        time.sleep(0.5)
        during_resilver = while_running(
            paced, args, lambda: paced.ctl("volume", "replace", "disk2"), "resilver")
        paced.stop()
        shutil.rmtree(paced.data_dir)

        mb = 1024 * 1024
        lines = [
            f"Command: `python3 perf/load/mirror_load.py --build build --runs {args.runs}` "
            f"({args.messages} messages of {args.size} bytes over {args.sessions} reused "
            f"sessions per run; {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, every "
            "member on the same disk).",
            "",
            "| members | msg/s (median) | runs | vs 1 member |",
            "| --- | --- | --- | --- |",
        ]
        for n in (1, 2, 3):
            lines.append(f"| {n} | {median[n]:.0f} | "
                         f"{', '.join(f'{r:.0f}' for r in rates[n])} | "
                         f"{100 * median[n] / median[1]:.0f} % |")
        lines += [
            "",
            f"Scrub, unpaced, two members holding {spool / mb:.0f} MB each: "
            f"{scrub_s:.1f} s, {2 * spool / mb / scrub_s:.0f} MB/s read (`{scrub_state}`).",
            f"Resilver of one member, unpaced: {resilver_s:.1f} s, "
            f"{spool / mb / resilver_s:.0f} MB/s copied (`{resilver_state}`).",
            f"Ingest while a scrub runs at the default 100 MB/s: {during_scrub:.0f} msg/s "
            f"({100 * during_scrub / median[2]:.0f} % of two members' median); while a "
            f"resilver runs: {during_resilver:.0f} msg/s "
            f"({100 * during_resilver / median[2]:.0f} %).",
        ]
        block = "\n".join(lines)
        print(block)
        if not args.no_write:
            write_block(args.output, block)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def write_block(path, block):
    with open(path) as f:
        text = f.read()
    generated = f"{BEGIN_MARK}\n{block}\n{END_MARK}"
    if BEGIN_MARK in text:
        before = text[:text.index(BEGIN_MARK)]
        after = text[text.index(END_MARK) + len(END_MARK):]
        text = before + generated + after
    else:
        text = text.rstrip() + f"\n\n{SECTION_HEADING}\n\n{generated}\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
