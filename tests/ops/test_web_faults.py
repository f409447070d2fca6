"""Faults under load, on a private stack of real processes (tests/ops/private_stack.py):
PostgreSQL restarted, a deploy (gunicorn reloaded), Redis stopped. Each test prints one
``FAULT … PASS`` line with what it measured, and takes well under a minute.

Skipped only outside CI when a server binary is missing; in CI (``CI`` set) a missing binary
fails the test, because .ci/run installs them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.ops.private_stack import PrivateStack, missing_binaries, wait_until
from tests.ops.traffic import Answer, Client, Kinds, Traffic

# The Redis test's portal submissions use one policy each (one use a year):
# them (40 are left); vendor tokens allow 120 calls a minute each, far above what the tests send.
POLICIES, ASSIGNED, VENDOR_TOKENS = 50, 10, 20
# Seconds each caller waits between two calls: steady load that stays under the vendor limit.
PAUSE = 0.1
# A request that meets the outage must fail this fast (connect_timeout is 3 s).
FAIL_FAST_SECONDS = 5.0


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[PrivateStack, Kinds]]:
    missing = missing_binaries()
    if missing:
        message = "the fault tests need " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run installs them)")
        pytest.skip(message)
    private = PrivateStack()
    try:
        private.postgres_init()
        private.redis_start()
        data = private.load_data(POLICIES, ASSIGNED, VENDOR_TOKENS)
        private.gunicorn_start()
        yield private, Kinds(Client(private.base), data)
    finally:
        private.close()


def unexpected(answers: list[Answer], allowed: set[int]) -> list[Answer]:
    return [a for a in answers if a.status not in allowed]


def summary(answers: list[Answer]) -> str:
    counts = Counter(f"{a.kind}:{a.status}" for a in answers)
    return ", ".join(f"{key}×{n}" for key, n in sorted(counts.items()))


def all_answer(kinds: Kinds) -> bool:
    return all(call().status == 200 for call in (kinds.overview, kinds.me, kinds.eligibility))


def test_postgres_restarted_under_load_answers_503_fast_and_recovers_in_place(stack, capsys):
    private, kinds = stack
    workers = private.workers()
    calls = [kinds.overview, kinds.eligibility, kinds.me, kinds.vendor_event]
    with Traffic(calls, threads=6, pause=PAUSE) as traffic:
        time.sleep(2)
        private.postgres_stop()
        down = time.monotonic()
        time.sleep(3)
        private.postgres_start()
        up = time.monotonic()
        wait_until(lambda: all_answer(kinds), 15, "every kind answering 200")
        recovered = time.monotonic() - up
        time.sleep(1)
    answers = traffic.answers
    # then every answer is a 200 or a 503 of the right shape, and each came fast
    assert not unexpected(answers, {200, 503}), summary(unexpected(answers, {200, 503}))
    outage = [a for a in answers if a.status == 503]
    assert outage, "no request met the outage: " + summary(answers)
    for answer in outage:
        if answer.kind == "overview":
            assert answer.content_type.startswith("text/html")
            assert "服务暂时不可用" in answer.body
        else:
            assert answer.content_type.startswith("application/json")
            assert '"code": "service_unavailable"' in answer.body
    slowest = max(a.seconds for a in answers if a.at >= down)
    assert slowest < FAIL_FAST_SECONDS
    # and the same processes serve again: nothing was restarted
    assert private.workers() == workers
    assert all(a.status == 200 for a in traffic.since(up + recovered))
    with capsys.disabled():  # the CI log shows each drill's outcome
        print(
            f"\nFAULT postgres-restart PASS: {len(answers)} requests, {len(outage)} × 503 "
            f"during the 3 s outage, slowest {slowest:.2f} s, 200 again {recovered:.2f} s after "
            f"the restart, same {len(workers)} workers"
        )


def test_a_deploy_mid_traffic_fails_no_request(stack, capsys):
    private, kinds = stack
    old = private.workers()
    calls = [kinds.overview, kinds.eligibility, kinds.me, kinds.vendor_event]
    with Traffic(calls, threads=6, pause=PAUSE) as traffic:
        time.sleep(2)
        started = time.monotonic()
        private.rolling_restart()
        wait_until(lambda: not (private.workers() & old), 30, "every old worker gone")
        replaced = time.monotonic() - started
        time.sleep(2)
    answers = traffic.answers
    during = traffic.since(started)
    # then every request succeeded, before, during and after the deploy
    assert not unexpected(answers, {200}), summary(unexpected(answers, {200}))
    assert len(during) > 20
    assert len(private.workers()) == len(old)
    with capsys.disabled():  # the CI log shows each drill's outcome
        print(
            f"\nFAULT deploy-rolling-restart PASS: {len(answers)} requests ({len(during)} during "
            f"and after it), 0 failed; {len(old)} workers replaced one by one in {replaced:.2f} s"
        )


def test_redis_stopped_under_load_portal_submissions_and_vendor_events_succeed(stack, capsys):
    private, kinds = stack
    others = Traffic([kinds.vendor_event, kinds.overview, kinds.eligibility], 3, PAUSE)
    # One policyholder after another, each on a policy of their own.
    portal = Traffic([kinds.portal_submit], threads=1, pause=0.3)
    with others, portal:
        time.sleep(2)
        private.redis_stop()
        down = time.monotonic()
        time.sleep(10)
        private.redis_start()
        up = time.monotonic()
        time.sleep(2)
    answers = others.answers + portal.answers
    during = [a for a in answers if down <= a.at < up]
    expected = {"portal_submit": 302, "vendor_event": 200, "overview": 200, "eligibility": 200}
    wrong = [a for a in answers if a.status != expected.get(a.kind, 200)]
    assert not wrong, summary(wrong) + " " + "; ".join(a.body[:200] for a in wrong[:3])
    submitted = [a for a in during if a.kind == "portal_submit"]
    assert all(a.location.startswith("/requests/") for a in submitted), [
        a.location for a in submitted
    ]
    events = [a for a in during if a.kind == "vendor_event"]
    assert len(submitted) >= 3 and len(events) >= 3, summary(during)
    with capsys.disabled():  # the CI log shows each drill's outcome
        print(
            f"\nFAULT redis-stopped PASS: {len(answers)} requests, during the 10 s outage "
            f"{len(submitted)} portal submissions (302) and {len(events)} vendor events (200), "
            "no 5xx"
        )
