"""One request id per request, in its log lines, its response header and the tasks it queues;
JSON log lines with phone and ID numbers masked."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery, signals
from django.conf import settings
from django.test import Client

from portal.kernel.logjson import JsonFormatter
from portal.kernel.logmask import MaskPersonalNumbers
from portal.kernel.request_context import REQUEST_ID
from portal.site.celery import app as portal_app

pytestmark = pytest.mark.django_db

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """The root logger also writes to a handler set up as ``LOG_FORMAT=json`` sets up the
    console (the mask filter, then the JSON formatter); returns its lines, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalNumbers())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def closed_broker() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


# --- the web request ----------------------------------------------------------------------


def test_a_requests_log_lines_carry_the_id_of_its_response_header(
    client: Client, settings, json_lines: Lines
):
    # given a readiness probe that logs (the broker is down)
    settings.CELERY_BROKER_URL = closed_broker()
    # when it is asked
    response = client.get("/readyz")
    # then the check's line and Django's "Service Unavailable" line (written after the
    # middleware chain) both carry the id the response names
    request_id = response["X-Request-ID"]
    ours = [line for line in json_lines() if line["request_id"] == request_id]
    assert {line["logger"] for line in ours} >= {"portal.site.health", "django.request"}
    assert len(request_id) == 32
    # and nothing is left set once the response is closed
    assert REQUEST_ID.get() is None


def test_an_incoming_valid_request_id_is_kept(client: Client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c2e-0001"})
    assert response["X-Request-ID"] == "lb-7f3a9c2e-0001"


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "has spaces in it", "under_score_id", "中文请求编号一二三", "a\"b'c<d>e;f"],
)
def test_an_incoming_invalid_request_id_is_replaced(client: Client, incoming: str):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_each_request_gets_its_own_id(client: Client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


# --- the JSON line ------------------------------------------------------------------------


def test_the_json_line_masks_a_phone_and_an_id_number(json_lines: Lines):
    # when a line names a phone (as an argument) and an ID number in a traceback
    token = REQUEST_ID.set("test-request-0001")
    try:
        try:
            raise ValueError("身份证 11010519491231002X 不符")
        except ValueError:
            logging.getLogger("tests.ops").exception("用户 %s 登录失败", "13800138000")
    finally:
        REQUEST_ID.reset(token)
    # then one JSON object, masked, with the request id and the traceback
    (line,) = json_lines()
    assert line["message"] == "用户 138****8000 登录失败"
    assert line["level"] == "ERROR" and line["logger"] == "tests.ops"
    assert line["request_id"] == "test-request-0001"
    assert "110105********002X" in line["exception"] and "ValueError" in line["exception"]
    assert "13800138000" not in json.dumps(line) and "11010519491231002X" not in json.dumps(line)
    assert line["time"].endswith("+00:00")  # UTC, ISO 8601 with milliseconds


def test_log_format_json_makes_the_console_write_json_lines():
    # given a process started with LOG_FORMAT=json (the real LOGGING setting)
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('tests.ops').warning('回拨 13800138000')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
        check=True,
    )
    # then stderr is one JSON object, masked
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.startswith("{")]
    assert line["message"] == "回拨 138****8000"
    assert line["request_id"] is None


# --- Celery -------------------------------------------------------------------------------


@pytest.fixture
def memory_app() -> Iterator[Celery]:
    """A Celery app on kombu's in-memory transport (no broker process), with a task that
    answers the request id it runs with; the project's app stays current."""
    app = Celery("request-id-test", set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        result_backend="cache+memory://",
        task_always_eager=False,
        worker_hijack_root_logger=False,
    )

    @app.task(name="tests.ops.current_request_id", shared=False)
    def current_request_id() -> str | None:
        return REQUEST_ID.get()

    yield app
    portal_app.set_current()
    portal_app.set_default()


def test_a_task_queued_in_a_request_carries_its_id_in_the_message_headers(memory_app: Celery):
    published: list[dict[str, Any]] = []

    def record(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        published.append(dict(headers or {}))

    signals.after_task_publish.connect(record)
    token = REQUEST_ID.set("req-0123456789")
    try:
        memory_app.tasks["tests.ops.current_request_id"].delay()
    finally:
        REQUEST_ID.reset(token)
        signals.after_task_publish.disconnect(record)
    assert published[0]["request_id"] == "req-0123456789"


def test_a_task_queued_outside_a_request_has_no_request_id_header(memory_app: Celery):
    published: list[dict[str, Any]] = []

    def record(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        published.append(dict(headers or {}))

    signals.after_task_publish.connect(record)
    try:
        memory_app.tasks["tests.ops.current_request_id"].delay()
    finally:
        signals.after_task_publish.disconnect(record)
    assert "request_id" not in published[0]


def test_a_worker_runs_the_task_with_the_id_of_the_request_that_queued_it(memory_app: Celery):
    from celery.contrib.testing.worker import start_worker

    # given a worker thread (its own context: nothing is inherited from the test)
    with start_worker(memory_app, perform_ping_check=False, shutdown_timeout=10):
        # when a request queues the task
        token = REQUEST_ID.set("req-worker-0001")
        try:
            result = memory_app.tasks["tests.ops.current_request_id"].delay()
        finally:
            REQUEST_ID.reset(token)
        # then the task ran with that id
        assert result.get(timeout=10) == "req-worker-0001"


def test_an_eager_task_sees_the_id_of_its_headers_then_the_callers_again(memory_app: Celery):
    task = memory_app.tasks["tests.ops.current_request_id"]
    token = REQUEST_ID.set("req-caller-0001")
    try:
        assert task.apply(headers={"request_id": "req-header-0001"}).get() == "req-header-0001"
        assert task.apply().get() == "req-caller-0001"  # no header: the caller's id
        assert REQUEST_ID.get() == "req-caller-0001"
    finally:
        REQUEST_ID.reset(token)
