"""Steady HTTP traffic for the fault tests: threads that call the private stack in a loop and
record every answer (kind, status, content type, body, seconds, when). One connection per
request, as a load balancer without upstream keep-alive sends them: a refused or cut
connection is recorded as status 0, a failure like any unexpected status."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

BEIJING = timezone(timedelta(hours=8))
TIMEOUT = 15.0


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int  # 0: no HTTP answer (connection refused, reset, timeout)
    content_type: str
    body: str
    seconds: float
    at: float  # time.monotonic() when the request started
    cookies: tuple[tuple[str, str], ...] = ()
    location: str = ""


class Client:
    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def call(
        self, kind: str, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> Answer:
        started = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=body, headers={"Connection": "close", **headers})
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            cookies = tuple(
                tuple(header.split(";", 1)[0].split("=", 1))
                for header in response.msg.get_all("Set-Cookie") or []
            )
            return Answer(
                kind,
                response.status,
                response.getheader("Content-Type", ""),
                text,
                time.monotonic() - started,
                started,
                cookies=cookies,  # type: ignore[arg-type]
                location=response.getheader("Location", ""),
            )
        except (OSError, http.client.HTTPException) as error:
            return Answer(kind, 0, "", repr(error), time.monotonic() - started, started)
        finally:
            conn.close()

    def json(self, kind: str, method: str, path: str, payload: Any, **headers: str) -> Answer:
        return self.call(
            kind,
            method,
            path,
            json.dumps(payload).encode(),
            **{"Content-Type": "application/json", **headers},
        )


class Kinds:
    """The calls the fault tests mix, from ``manage.py loadtest_setup``'s data."""

    def __init__(self, client: Client, data: dict[str, Any]) -> None:
        self.client = client
        self.data = data
        self.staff = {"Authorization": f"Bearer {data['staff_token']}"}
        self.assigned = [row["assigned"] for row in data["policies"] if row["assigned"]]
        self.portal_rows = iter([row for row in data["policies"] if not row["assigned"]])
        self.lock = threading.Lock()
        self.turn = 0

    def _next(self, items: list[Any]) -> Any:
        with self.lock:
            self.turn += 1
            return items[self.turn % len(items)]

    def overview(self) -> Answer:
        row = self._next(self.data["policies"])
        return self.client.call("overview", "GET", "/", Cookie=f"sessionid={row['session']}")

    def me(self) -> Answer:
        return self.client.call("me", "GET", "/api/staff/v1/me", **self.staff)

    def eligibility(self) -> Answer:
        now = datetime.now(BEIJING)
        payload = {
            "policy": self._next(self.data["policies"])["number"],
            "member": "M1",
            "benefit": self.data["eligibility_benefit"],
            "at": now.isoformat(),
            "context": {"planned_at": (now + timedelta(days=3)).isoformat(), "region": "110000"},
        }
        return self.client.json(
            "eligibility", "POST", "/api/staff/v1/eligibility", payload, **self.staff
        )

    def vendor_event(self) -> Answer:
        token = self._next(self.data["vendor_tokens"])
        return self.client.json(
            "vendor_event",
            "POST",
            f"/api/vendor/v1/requests/{self._next(self.assigned)}/events",
            {"event": "contacted"},
            Authorization=f"Bearer {token}",
            **{"Idempotency-Key": str(uuid.uuid4())},
        )

    def portal_submit(self) -> Answer:
        """The holder of a policy not used before opens the 门诊协助 form and submits it:
        302 to the new request's page (the form, with its CSRF token, read first)."""
        with self.lock:
            row = next(self.portal_rows, None)
        if row is None:
            return Answer("portal_submit", -1, "", "no portal policy left", 0.0, time.monotonic())
        path = f"/members/{row['member_id']}/benefits/{self.data['submit_benefit']}/request/"
        cookie = f"sessionid={row['session']}"
        form = self.client.call("portal_form", "GET", path, Cookie=cookie)
        if form.status != 200:
            return form
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        key = re.search(r'name="submission_key" value="([^"]+)"', form.body)
        csrf = dict(form.cookies).get("csrftoken")
        if token is None or key is None or csrf is None:
            return Answer("portal_form", -1, form.content_type, "no CSRF token or key", 0, form.at)
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "submission_key": key.group(1),
            "region": "上海市",
            "submit": "1",
        }
        return self.client.call(
            "portal_submit",
            "POST",
            path,
            urlencode(fields).encode(),
            Cookie=f"{cookie}; csrftoken={csrf}",
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )


class Traffic:
    """``threads`` callers, each repeating ``calls`` in turn, ``pause`` seconds apart, until
    the block ends."""

    def __init__(self, calls: list[Callable[[], Answer]], threads: int, pause: float) -> None:
        self.calls = calls
        self.pause = pause
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index: int) -> None:
        turn = index
        while not self._stop.is_set():
            answer = self.calls[turn % len(self.calls)]()
            turn += 1
            with self._lock:
                self.answers.append(answer)
            self._stop.wait(self.pause)

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT + 5)

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= moment]
