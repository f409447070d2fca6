"""``./dev loadtest [SECONDS]``: the load test against the running ``./dev stack``.

1. ``manage.py loadtest_setup`` writes the test data (policies, sessions, tokens);
2. locust runs ``tests/ops/locustfile.py`` headless on loopback for SECONDS and stops;
3. meanwhile every gunicorn worker and Celery process is sampled (RSS, psutil) once a second;
4. it prints throughput, p50/p95/p99 and errors per kind, the ratio eligibility / me, each
   process's peak RSS in the first and in the last window (a minute, or a third of a shorter
   run) and its growth, then runs ``manage.py ledger_reconcile``.

Exit status 1 when any request failed or the ledger does not reconcile. Run by ``./dev``,
which exports the stack's settings (``var/stack/env``); works without Django imported.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "var" / "stack"
RATIO_GOAL = 0.5
GROWTH_GOAL = 0.10


def stack_processes() -> dict[int, str]:
    """pid -> label of every gunicorn worker and Celery worker process (masters and pool)."""
    found: dict[int, str] = {}
    gunicorn = psutil.Process(int((STACK / "gunicorn.pid").read_text()))
    for child in gunicorn.children():
        found[child.pid] = f"gunicorn worker {child.pid}"
    for pidfile in sorted(STACK.glob("celery-worker*.pid")):
        name = pidfile.stem.removeprefix("celery-")
        master = psutil.Process(int(pidfile.read_text()))
        found[master.pid] = f"celery {name} main {master.pid}"
        for child in master.children():
            found[child.pid] = f"celery {name} pool {child.pid}"
    return found


class RssSampler(threading.Thread):
    """Once a second: (seconds since start, pid, RSS) of each process in ``processes``."""

    def __init__(self, processes: dict[int, str]) -> None:
        super().__init__(daemon=True)
        self.processes = {pid: psutil.Process(pid) for pid in processes}
        self.samples: list[tuple[float, int, int]] = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            now = time.monotonic() - self.started
            for pid, process in self.processes.items():
                try:
                    self.samples.append((now, pid, process.memory_info().rss))
                except psutil.NoSuchProcess:
                    continue

    def peaks(self, start: float, end: float) -> dict[int, int]:
        peak: dict[int, int] = defaultdict(int)
        for moment, pid, rss in self.samples:
            if start <= moment <= end:
                peak[pid] = max(peak[pid], rss)
        return peak


def run_locust(seconds: int, users: int, ratio_users: int, data: Path, out: Path) -> None:
    host = "http://" + os.environ.get("GUNICORN_BIND", "127.0.0.1:8100")
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "tests" / "ops" / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(max(users // 5, 1)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(out / "run"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "LOADTEST_DATA": str(data), "LOADTEST_RATIO_USERS": str(ratio_users)}
    # locust exits 1 when a request failed: that is reported below from its CSV, not here.
    subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        command, env=env, check=False, timeout=seconds + 120, cwd=ROOT
    )


def report_requests(out: Path, seconds: int) -> tuple[int, float]:
    """Print per kind; returns (failures, eligibility / me throughput)."""
    with open(out / "run_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    print(f"\n{'kind':<22}{'requests':>10}{'req/s':>9}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>8}")
    rates: dict[str, float] = {}
    failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        rate = int(row["Request Count"]) / seconds
        rates[name] = rate
        if name != "all":
            failures += int(row["Failure Count"])
        print(
            f"{name:<22}{row['Request Count']:>10}{rate:>9.1f}{row['50%']:>6}ms"
            f"{row['95%']:>5}ms{row['99%']:>5}ms{row['Failure Count']:>8}"
        )
    ratio = rates.get("staff eligibility", 0.0) / max(rates.get("staff me", 0.0), 1e-9)
    verdict = "met" if ratio >= RATIO_GOAL else "NOT met"
    print(f"\nratio eligibility / me throughput: {ratio:.2f} (goal >= {RATIO_GOAL}: {verdict})")
    print(f"errors: {failures}")
    failures_file = out / "run_failures.csv"
    if failures and failures_file.exists():
        print(failures_file.read_text(encoding="utf-8")[:2000])
    return failures, ratio


def report_memory(sampler: RssSampler, labels: dict[int, str], seconds: int) -> int:
    """Print each process's peak RSS in the first and last window; returns how many grew
    more than the goal."""
    window = 60.0 if seconds >= 180 else seconds / 3
    first = sampler.peaks(0, window)
    last = sampler.peaks(seconds - window, seconds + 5)
    print(f"\npeak RSS, first and last {window:.0f} s (MiB)")
    grown = 0
    for pid, label in labels.items():
        if pid not in first or pid not in last:
            print(f"  {label:<32} not sampled in both windows (process gone?)")
            continue
        growth = last[pid] / first[pid] - 1
        grown += growth > GROWTH_GOAL
        print(
            f"  {label:<32}{first[pid] / 2**20:8.1f}{last[pid] / 2**20:8.1f}"
            f"{growth * 100:+7.1f}%{'  > 10%' if growth > GROWTH_GOAL else ''}"
        )
    return grown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seconds", nargs="?", type=int, default=60)
    parser.add_argument("--users", type=int, default=38, help="locust users in all")
    parser.add_argument("--ratio-users", type=int, default=4, help="closed-loop callers per side")
    parser.add_argument("--policies", type=int, default=200)
    args = parser.parse_args()
    if not (STACK / "gunicorn.pid").exists():
        print("the stack does not run: start it with ./dev stack", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        out = Path(tmp)
        data = out / "data.json"
        subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [
                sys.executable,
                "manage.py",
                "loadtest_setup",
                "--policies",
                str(args.policies),
                "--assigned",
                str(args.policies // 2),
                "--out",
                str(data),
            ],
            check=True,
            cwd=ROOT,
            timeout=600,
        )
        labels = stack_processes()
        sampler = RssSampler(labels)
        sampler.start()
        print(f"locust: {args.users} users for {args.seconds} s on loopback …", flush=True)
        run_locust(args.seconds, args.users, args.ratio_users, data, out)
        sampler.stop.set()
        sampler.join()
        failures, _ratio = report_requests(out, args.seconds)
        grown = report_memory(sampler, labels, args.seconds)
    print(f"processes grown more than {GROWTH_GOAL:.0%}: {grown}\n")
    reconciled = subprocess.run(
        [sys.executable, "manage.py", "ledger_reconcile"], cwd=ROOT, check=False, timeout=300
    )
    return 1 if failures or reconciled.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
