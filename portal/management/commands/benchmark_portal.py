"""Throughput of 我的权益 (the portal's home) for a holder acting for 8 members on 2 policies,
against a plain page of the same portal (我的申请, empty), side by side in one run,
in-process on the same database; and the query count of 我的权益 for 1 member and for 8.

The sides alternate in short rounds and each keeps its best round, so that load from other
processes on the machine (which only ever slows a round down) skews neither side."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benefits.demo import family_policy, resident_id
from benefits.models import Person, Policy, PolicyMember, Product
from portal.models import PolicyholderAccount
from portal.site.side_by_side import SideBySideCommand, best_rates

GOAL = 0.25


def _second_policy(holder: Person, number: str, *, spouse: bool) -> Policy:
    """A 小康 policy held by the same person, covering them (and a spouse)."""
    policy = Policy.objects.create(
        number=number,
        product=Product.objects.get(code="xiaokang.rsyj"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=holder,
        family=True,
    )
    PolicyMember.objects.create(policy=policy, person=holder, ref="M1", relation="self")
    if spouse:
        other = Person(
            name="基准配偶",
            id_number=resident_id("11010519630101" + "901"),
            birth_date=date(1963, 1, 1),
        )
        other.save()
        PolicyMember.objects.create(policy=policy, person=other, ref="M2", relation="spouse")
    return policy


def _client_for(person: Person, phone: str) -> Client:
    """A client logged in as the bound portal account of ``person``."""
    person.phone = phone
    person.save(update_fields=["phone"])
    user = get_user_model().objects.create_user(username=f"bench-{phone}")
    PolicyholderAccount.objects.create(
        user=user, phone=phone, person=person, bound_at=timezone.now()
    )
    client = Client()
    client.force_login(user)
    return client


class Command(SideBySideCommand):
    help = "基准：“我的权益”与门户简单页面的吞吐量之比（8 名成员、2 张保单；目标 ≥ 0.25）。"

    def run(self, seconds: float, rounds: int) -> None:
        big = family_policy(number="BENCH-PORTAL-1", size=7, birth_year=1964, name="基准")
        # 7 + 1 members the holder acts for, on 2 policies; the single member holds the same
        # two products alone, so both read the same catalogue
        _second_policy(big.holder, "BENCH-PORTAL-2", spouse=True)
        alone = family_policy(number="BENCH-PORTAL-0", size=1, birth_year=1965, name="单人")
        _second_policy(alone.holder, "BENCH-PORTAL-3", spouse=False)
        family = _client_for(big.holder, "13900000081")
        single = _client_for(alone.holder, "13900000082")

        def get(client: Client, path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        for _ in range(10):  # warm-up: memos, prepared queries, templates
            get(family, "/")
            get(family, "/requests/")
            get(single, "/")
        queries = {}
        for label, client in (("1 名成员、2 张保单", single), ("8 名成员、2 张保单", family)):
            with CaptureQueriesContext(connection) as captured:
                get(client, "/")
            queries[label] = len(captured)
        sides = {"plain": lambda: get(family, "/requests/"), "home": lambda: get(family, "/")}
        best = best_rates(sides, seconds, rounds)
        ratio = best["home"] / best["plain"]
        self.stdout.write(
            f"数据库：{connection.vendor}；每侧 {seconds:.0f} 秒，分 {rounds} 轮交替、"
            "取各侧最快一轮；同一进程、同一数据库"
        )
        self.stdout.write(f"GET /requests/（我的申请）  {best['plain']:8.1f} 次/秒")
        self.stdout.write(f"GET /（我的权益）           {best['home']:8.1f} 次/秒")
        for label, count in queries.items():
            self.stdout.write(f"“我的权益”查询数：{count}（{label}）")
        verdict = "达标" if ratio >= GOAL else "未达标"
        same = "相同" if len(set(queries.values())) == 1 else "不同"
        self.stdout.write(f"吞吐量之比 {ratio:.2f}（目标 ≥ {GOAL}）：{verdict}；查询数{same}")
