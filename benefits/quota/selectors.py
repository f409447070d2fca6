"""What each member of a policy is entitled to, what is used and held, and the ledger behind
it — in a fixed number of queries (policy, members, benefits, balances, entries)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from benefits.eligibility.facts import pool_label
from benefits.models import Benefit, Policy, QuotaBalance, QuotaLedgerEntry
from benefits.quota.entitlements import PeriodUnknown, pools_for
from portal.kernel.errors import DomainError, NotFound


def plain(value: Decimal) -> Decimal:
    """1 and 5000, not 1.00 or 5E+3."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def policy_entitlements(
    *, number: str, on: date | None = None, policies: QuerySet[Policy] | None = None
) -> dict[str, Any]:
    """``policies``: where to look the number up (a staff caller's insurers); default all."""
    policies = Policy.objects.all() if policies is None else policies
    policy = policies.select_related("product").filter(number=number).first()
    if policy is None:
        raise NotFound("保单不存在")
    on = on or timezone.localdate()
    if not policy.effective_on <= on <= policy.expires_on:
        raise DomainError("outside_policy_period", "查询日期不在保单期间内", field="on")
    members = list(policy.members.select_related("person").order_by("id"))
    benefits = list(
        Benefit.objects.filter(product=policy.product, active=True).order_by(
            "parent_id", "position"
        )
    )
    balances = {
        (b.benefit_id, b.person_id, b.measure, b.category, b.period_key): b
        for b in QuotaBalance.objects.filter(policy=policy)
    }
    entries: dict[int, list[QuotaLedgerEntry]] = defaultdict(list)
    for entry in QuotaLedgerEntry.objects.filter(balance__policy=policy).order_by("id"):
        entries[entry.balance_id].append(entry)

    result_members = []
    for member in members:
        rows = []
        for benefit in benefits:
            try:
                specs = pools_for(benefit=benefit, policy=policy, person=member.person, on=on)
            except PeriodUnknown:
                specs = []  # per-stay pools open with a stay
            pools = []
            for spec in specs:
                key = spec.key
                person_id = key.person.pk if key.person else None
                balance = balances.get(
                    (benefit.pk, person_id, key.measure, key.category, key.period_key)
                )
                granted = balance.granted if balance else spec.amount
                held = balance.held if balance else Decimal(0)
                used = balance.used if balance else Decimal(0)
                pools.append(
                    {
                        "pool": pool_label(spec, benefit.parsed_terms),
                        "period": key.period_key,
                        "period_start": key.period_start,
                        "period_end": key.period_end,
                        "granted": plain(granted),
                        "held": plain(held),
                        "used": plain(used),
                        "remaining": plain(granted - held - used),
                        "ledger": [
                            {
                                "kind": e.kind,
                                "amount": plain(e.amount),
                                "actor": e.actor_label,
                                "reason": e.reason,
                                "request": e.request_ref,
                                "at": e.created_at,
                            }
                            for e in (entries.get(balance.pk, []) if balance else [])
                        ],
                    }
                )
            rows.append(
                {
                    "benefit": benefit.code,
                    "name": benefit.name,
                    "unlimited": not specs and benefit.parsed_terms.quota.is_unlimited,
                    "pools": pools,
                }
            )
        result_members.append({"ref": member.ref, "name": member.person.name, "benefits": rows})
    return {"policy": policy.number, "on": on, "members": result_members}
