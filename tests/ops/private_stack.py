"""A private web stack for the fault tests: PostgreSQL (initdb in a temporary directory),
Redis and gunicorn with production settings, each on a free loopback port, started and
stopped by the test itself; nothing shared with the developer's or CI's servers.

``missing_binaries()`` says what this machine lacks; the tests skip with that message, except
in CI (``CI`` set), where they fail: ``.ci/run`` installs PostgreSQL and Redis.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]


def pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts)
    return versions[-1].parent if versions else None


def missing_binaries() -> list[str]:
    missing = []
    if pg_bin() is None:
        missing.append("PostgreSQL server (Debian package postgresql)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if importlib.util.find_spec("gunicorn") is None:
        missing.append("gunicorn (pip install -e .)")
    return missing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:  # not up yet (refused, reset): try again
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {seconds} s")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class PrivateStack:
    def __init__(self) -> None:
        # Under /tmp, not pytest's 0700 directory: the postgres user must reach it when root.
        self.dir = Path(tempfile.mkdtemp(prefix="faults-", dir="/tmp"))
        self.dir.chmod(0o755)
        self.root = os.geteuid() == 0
        self.pg_port, self.redis_port, self.web_port = free_port(), free_port(), free_port()
        self.pgdata = self.dir / "pg"
        self.redis: subprocess.Popen[bytes] | None = None
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PG"))},
            "DJANGO_SETTINGS_MODULE": "portal.site.settings",
            "PYTHONPATH": str(ROOT),
            "SECRET_KEY": "faults-test-secret-key-not-for-production",
            "DEBUG": "0",
            "PLAIN_HTTP": "1",  # loopback only
            "DATABASE_URL": f"postgres://benefits@127.0.0.1:{self.pg_port}/benefits",
            "CONN_MAX_AGE": "60",  # persistent connections: they must survive a restart
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CACHE_URL": f"rediscache://127.0.0.1:{self.redis_port}/1",
            "PRIVATE_MEDIA_ROOT": str(self.dir / "private"),
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_GRACEFUL_TIMEOUT": "20",
            "GUNICORN_ERROR_LOG": str(self.dir / "gunicorn.log"),
            "GUNICORN_READY_DIR": str(self.dir / "ready"),
        }
        self.base = f"http://127.0.0.1:{self.web_port}"

    # --- PostgreSQL -----------------------------------------------------------------------

    def _pg(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.root else []
        subprocess.run(  # noqa: S603 - Debian's PostgreSQL binaries, fixed arguments
            [*prefix, *command], check=True, capture_output=True, timeout=60
        )

    def postgres_init(self) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        self.pgdata.mkdir()
        if self.root:
            shutil.chown(self.pgdata, "postgres")
        self._pg(
            str(bin_dir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            "benefits",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.postgres_start()
        self._pg(
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.pg_port),
            "-U",
            "benefits",
            "benefits",
        )

    def postgres_start(self) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        # A throwaway cluster: durability off, so that the set-up takes seconds.
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.pgdata} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.pgdata / "log"),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )

    def postgres_stop(self) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        self._pg(
            str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop"
        )

    # --- Redis ------------------------------------------------------------------------------

    def redis_start(self) -> None:
        self.redis = subprocess.Popen(  # noqa: S603 - Debian's redis-server, fixed arguments
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._redis_answers, 10, "Redis")

    def _redis_answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")

    def redis_stop(self) -> None:
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
            self.redis = None

    # --- the application ----------------------------------------------------------------

    def manage(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.stdout

    def load_data(self, policies: int, assigned: int, vendor_tokens: int) -> dict[str, Any]:
        self.manage("migrate", "--no-input", "-v0")
        self.manage("load_catalogue")
        out = self.dir / "data.json"
        self.manage(
            "loadtest_setup",
            "--policies",
            str(policies),
            "--assigned",
            str(assigned),
            "--vendor-tokens",
            str(vendor_tokens),
            "--out",
            str(out),
        )
        return json.loads(out.read_text(encoding="utf-8"))

    def gunicorn_start(self) -> None:
        self.gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "portal/site/gunicorn_conf.py",
                "portal.site.wsgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: http_status(self.base + "/readyz") == 200, 30, "gunicorn")

    def workers(self) -> set[int]:
        assert self.gunicorn is not None
        return {child.pid for child in psutil.Process(self.gunicorn.pid).children()}

    def rolling_restart(self) -> None:
        """A deploy, as operations runs it: the workers replaced one by one."""
        assert self.gunicorn is not None
        command = [
            sys.executable,
            "scripts/rolling_restart.py",
            str(self.gunicorn.pid),
            self.env["GUNICORN_READY_DIR"],
        ]
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            command, cwd=ROOT, check=True, capture_output=True, timeout=120
        )

    def close(self) -> None:
        if self.gunicorn is not None:
            self.gunicorn.terminate()
            try:
                self.gunicorn.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
        self.redis_stop()
        if (self.pgdata / "postmaster.pid").exists():
            self.postgres_stop()
        shutil.rmtree(self.dir, ignore_errors=True)
