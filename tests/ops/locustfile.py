"""Mixed traffic for ``./dev loadtest`` (run by ``tests/ops/loadtest.py``, headless, against
the loopback stack of ``./dev stack``), from the data ``manage.py loadtest_setup`` wrote
(``LOADTEST_DATA``):

- policyholders open 我的权益 (the portal's overview) with a logged-in session;
- hotline agents submit 门诊协助 over the staff API and cancel it (the quota goes back), each
  on a policy of its own: the family pool has one use a year;
- vendors report ``contacted`` on their assigned requests, one token each, paced under the
  vendor API's 120 calls a minute per token;
- side by side, as many closed-loop callers (no pause) of ``POST /eligibility`` as of the
  trivial ``GET /me``: with the same number of callers each, their throughputs compare what
  one call costs under the same load.

Every answer other than the expected status (or a 我的权益 page without its heading) is a
failure, reported per kind by locust.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from locust import FastHttpUser, constant, constant_throughput, task

DATA: dict[str, Any] = json.loads(open(os.environ["LOADTEST_DATA"], encoding="utf-8").read())
BEIJING = timezone(timedelta(hours=8))
POLICIES = [row["number"] for row in DATA["policies"]]
HOTLINE_POLICIES = iter([row["number"] for row in DATA["policies"] if not row["assigned"]])
ASSIGNED = [row["assigned"] for row in DATA["policies"] if row["assigned"]]
SESSIONS = [row["session"] for row in DATA["policies"]]
VENDOR_TOKENS = iter(DATA["vendor_tokens"])
STAFF = {"authorization": f"Bearer {DATA['staff_token']}"}
# Closed-loop callers of each side of the ratio (LOADTEST_RATIO_USERS each).
RATIO_USERS = int(os.environ.get("LOADTEST_RATIO_USERS", "4"))
_counter = itertools.count()


def _expect(response: Any, status: int, name: str) -> None:
    if response.status_code != status:
        response.failure(f"{name}: {response.status_code} {response.text[:200]}")


class Policyholder(FastHttpUser):
    """Opens 我的权益 about twice a second."""

    weight = 4
    wait_time = constant_throughput(2)

    def on_start(self) -> None:
        self.session = SESSIONS[next(_counter) % len(SESSIONS)]

    @task
    def overview(self) -> None:
        with self.client.get(
            "/",
            name="portal 我的权益",
            headers={"cookie": f"sessionid={self.session}"},
            catch_response=True,
            allow_redirects=False,
        ) as response:
            _expect(response, 200, "overview")
            if response.status_code == 200 and "我的权益" not in response.text:
                response.failure("overview without 我的权益")


class HotlineAgent(FastHttpUser):
    """Submits a request and cancels it, once a second, on a policy no other agent uses."""

    weight = 1
    wait_time = constant_throughput(1)

    def on_start(self) -> None:
        self.policy = next(HOTLINE_POLICIES, None)
        if self.policy is None:
            raise RuntimeError("more hotline agents than hotline policies: raise --policies")

    @task
    def submit_and_cancel(self) -> None:
        body = {
            "policy": self.policy,
            "member": "M1",
            "benefit": DATA["submit_benefit"],
            "context": {"region": "上海市"},
            "channel": "hotline",
        }
        with self.client.post(
            "/api/staff/v1/requests",
            json=body,
            name="staff submit",
            headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
            catch_response=True,
        ) as response:
            _expect(response, 201, "submit")
            if response.status_code != 201:
                return
            ref = response.json()["ref"]
        with self.client.post(
            f"/api/staff/v1/requests/{ref}/events",
            name="staff cancel",
            json={"event": "cancel", "reason": "客户来电取消"},
            headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
            catch_response=True,
        ) as response:
            _expect(response, 200, "cancel")


class Vendor(FastHttpUser):
    """Reports ``contacted`` 1.5 times a second (90 a minute, under the token's 120)."""

    weight = 1
    wait_time = constant_throughput(1.5)

    def on_start(self) -> None:
        token = next(VENDOR_TOKENS, None)
        if token is None:
            raise RuntimeError("more vendor users than vendor tokens: raise --vendor-tokens")
        self.headers = {"authorization": f"Bearer {token}"}

    @task
    def contacted(self) -> None:
        with self.client.post(
            f"/api/vendor/v1/requests/{random.choice(ASSIGNED)}/events",
            json={"event": "contacted"},
            name="vendor event",
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
            catch_response=True,
        ) as response:
            _expect(response, 200, "vendor event")


class EligibilityCaller(FastHttpUser):
    fixed_count = RATIO_USERS
    wait_time = constant(0)

    @task
    def eligibility(self) -> None:
        now = datetime.now(BEIJING)
        body = {
            "policy": random.choice(POLICIES),
            "member": "M1",
            "benefit": DATA["eligibility_benefit"],
            "at": now.isoformat(),
            "context": {"planned_at": (now + timedelta(days=3)).isoformat(), "region": "110000"},
        }
        with self.client.post(
            "/api/staff/v1/eligibility",
            json=body,
            name="staff eligibility",
            headers=STAFF,
            catch_response=True,
        ) as response:
            _expect(response, 200, "eligibility")


class MeCaller(FastHttpUser):
    fixed_count = RATIO_USERS
    wait_time = constant(0)

    @task
    def me(self) -> None:
        with self.client.get(
            "/api/staff/v1/me", name="staff me", headers=STAFF, catch_response=True
        ) as response:
            _expect(response, 200, "me")
