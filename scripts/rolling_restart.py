"""A deploy without a failed request: replace gunicorn's workers one at a time.

``python scripts/rolling_restart.py MASTER_PID READY_DIR``: for each worker running now, ask
the master for one more (``SIGTTIN``); wait until the new one has loaded the application
(it writes ``READY_DIR/<pid>``, see ``post_worker_init`` in portal/site/gunicorn_conf.py);
then ask for one less (``SIGTTOU``: the master stops its oldest worker gracefully, letting
it finish its requests). Capacity never drops below the usual number of workers.

Why not ``SIGHUP``: on a reload the master stops every old worker as soon as it has forked
the new ones, before they have imported the application; for those seconds no worker
accepts, and under load requests wait, or time out, in the listen queue
(tests/ops/test_web_faults.py measured it). New workers import the new code: no
``preload_app``. Standard library only: it runs wherever gunicorn runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

# Seconds a new worker may take to import the application and answer.
READY_TIMEOUT = 60.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ready_workers(ready_dir: Path) -> set[int]:
    """Workers that said they are ready and still run (a file left by a killed one is not)."""
    return {int(p.name) for p in ready_dir.iterdir() if p.name.isdigit() and alive(int(p.name))}


def wait_for_new_worker(ready_dir: Path, known: set[int]) -> int:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        fresh = ready_workers(ready_dir) - known
        if fresh:
            return fresh.pop()
        time.sleep(0.1)
    raise TimeoutError(f"no new worker was ready within {READY_TIMEOUT:.0f} s")


def rolling_restart(master: int, ready_dir: Path, say: bool = True) -> list[int]:
    """Replace every current worker; returns the new workers' pids."""
    old = ready_workers(ready_dir)
    if not old:
        raise RuntimeError(f"no ready worker listed in {ready_dir}: is gunicorn running?")
    known = set(old)
    new = []
    for _ in old:
        os.kill(master, signal.SIGTTIN)
        pid = wait_for_new_worker(ready_dir, known)
        known.add(pid)
        new.append(pid)
        os.kill(master, signal.SIGTTOU)
        if say:
            print(f"worker {pid} ready; the oldest worker is stopping gracefully", flush=True)
    return new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("master", type=int, help="gunicorn master pid")
    parser.add_argument("ready_dir", type=Path, help="GUNICORN_READY_DIR of that gunicorn")
    args = parser.parse_args()
    new = rolling_restart(args.master, args.ready_dir)
    print(f"{len(new)} workers replaced one by one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
