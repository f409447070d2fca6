"""Gunicorn settings for the web processes (``gunicorn -c portal/site/gunicorn_conf.py
portal.site.wsgi``), read from the environment so one file serves a laptop and a server.

- ``gthread`` workers: each worker process runs ``GUNICORN_THREADS`` request threads; a
  request waiting on PostgreSQL blocks one thread, not the process. Workers default to two
  per core (the application is database-bound, not CPU-bound).
- A deploy replaces the workers one by one (``scripts/rolling_restart.py``: ``SIGTTIN``, wait
  for the new worker's ready file in ``GUNICORN_READY_DIR``, ``SIGTTOU``); no
  ``preload_app``, so each new worker imports the new code. Not ``SIGHUP``: it stops the
  old workers before the new ones have loaded the application.
- No ``max_requests``: a worker is not recycled to hide a leak; the load test measures each
  worker's memory over the run instead (``tests/ops/loadtest.py``).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8100")
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Seconds a request may run before its worker is replaced; the slowest page (an annex import
# preview in admin) stays far below it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Seconds old workers get to finish their requests on a reload or a stop.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# No keep-alive by default (one request per connection, as nginx sends upstream unless told
# otherwise): a kept-alive connection pins its client to one worker, and in a ten-minute load
# test two of four workers did most of the work while requests queued behind them.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Access lines without the query string: a request reference is fine, a phone number
# typed into a search box is not.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'
proc_name = "benefits-web"

# Where each worker says it has loaded the application (a file named by its pid), for the
# rolling restart; unset: no files.
READY_DIR = os.environ.get("GUNICORN_READY_DIR", "")


def post_worker_init(worker: Any) -> None:
    if READY_DIR:
        Path(READY_DIR).mkdir(parents=True, exist_ok=True)
        (Path(READY_DIR) / str(worker.pid)).touch()


def worker_exit(server: Any, worker: Any) -> None:
    if READY_DIR:
        (Path(READY_DIR) / str(worker.pid)).unlink(missing_ok=True)
