"""Throughput of POST /api/staff/v1/eligibility against the trivial authenticated
GET /api/staff/v1/me, side by side in one run, in-process on the same database.

The sides alternate in short rounds and each keeps its best round, so that load from other
processes on the machine (which only ever slows a round down) skews neither side."""

import json
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benefits.demo import family_policy
from portal.kernel.staff_auth import staff_token_issue
from portal.site.side_by_side import SideBySideCommand, best_rates

GOAL = 0.45


class Command(SideBySideCommand):
    help = "基准：资格判断接口与最简单的已认证接口的吞吐量之比（目标 ≥ 0.45）。"

    def run(self, seconds: float, rounds: int) -> None:
        from portal.site.roles import staff_access_set

        # An operator of the policies' insurer, as a hotline agent calls it: roles and tenancy
        # are checked on every call, on both sides.
        user = staff_access_set(
            username="bench-staff", insurer_codes=["pingan"], role_code="operator"
        )
        _, raw = staff_token_issue(user=user, name="benchmark")
        headers = {"authorization": f"Bearer {raw}"}
        family_policy(number="BENCH-1", size=1, birth_year=1961, name="基准")
        family_policy(number="BENCH-8", size=8, birth_year=1962, name="基准")
        client = Client()

        def me() -> None:
            assert client.get("/api/staff/v1/me", headers=headers).status_code == 200

        def eligibility(number: str) -> Any:
            body = {
                "policy": number,
                "member": "M1",
                "benefit": "pingan.health.escort",
                "at": "2026-06-01T10:00:00+08:00",
                "context": {"planned_at": "2026-06-04T10:00:00+08:00", "region": "110000"},
            }
            response = client.post(
                "/api/staff/v1/eligibility",
                json.dumps(body),
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 200, response.content
            return response

        me()  # the token's last_used_at is written at most once a minute: not in the counts
        for _ in range(20):  # warm-up: reference-data memos, prepared queries, ninja's schemas
            me()
            eligibility("BENCH-1")
            eligibility("BENCH-8")
        queries = {}
        for number in ("BENCH-1", "BENCH-8"):
            with CaptureQueriesContext(connection) as captured:
                eligibility(number)
            queries[number] = len(captured)
        with CaptureQueriesContext(connection) as captured:
            me()
        me_queries = len(captured)

        sides = {
            "me": me,
            "BENCH-1": lambda: eligibility("BENCH-1"),
            "BENCH-8": lambda: eligibility("BENCH-8"),
        }
        best = best_rates(sides, seconds, rounds)
        me_rate, one_rate, eight_rate = best["me"], best["BENCH-1"], best["BENCH-8"]
        ratio = min(one_rate, eight_rate) / me_rate
        self.stdout.write(
            f"数据库：{connection.vendor}；每侧 {seconds:.0f} 秒，分 {rounds} 轮交替、"
            "取各侧最快一轮；同一进程、同一数据库"
        )
        self.stdout.write(
            f"GET  /api/staff/v1/me           {me_rate:8.1f} 次/秒  查询 {me_queries}"
        )
        for label, rate, number in (
            ("1 人家庭", one_rate, "BENCH-1"),
            ("8 人家庭", eight_rate, "BENCH-8"),
        ):
            count = queries[number]
            self.stdout.write(
                f"POST /api/staff/v1/eligibility  {rate:8.1f} 次/秒  查询 {count}（{label}）"
            )
        verdict = "达标" if ratio >= GOAL else "未达标"
        same = "相同" if queries["BENCH-1"] == queries["BENCH-8"] else "不同"
        self.stdout.write(
            f"吞吐量之比 {ratio:.2f}（目标 ≥ {GOAL}）：{verdict}；1 人与 8 人家庭查询数{same}"
        )
