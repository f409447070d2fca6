"""Follow-ups (回访) after a completed service are planned from the benefit's terms
(``follow_ups``): how many, how far apart, and whether they stop at the policy's expiry."""

from __future__ import annotations

from datetime import date

import pytest

from benefits.demo import policy_with_members
from benefits.models import Benefit
from bookings.messages.followups import follow_ups_plan
from bookings.models import FollowUp, ServiceRequest
from tests.clock import at

pytestmark = pytest.mark.django_db


def completed_request(benefit: Benefit, ref: str, expires_on: date) -> ServiceRequest:
    policy = policy_with_members(
        number=f"FU-{ref}",
        product=benefit.product.code,
        members=[("林一", date(1970, 1, 1), "self")],
        effective_on=date(2025, 7, 16),
        expires_on=expires_on,
    )
    member = policy.members.get()
    return ServiceRequest.objects.create(
        ref=ref, policy=policy, member=member, recipient=member, benefit=benefit
    )


def planned(request: ServiceRequest) -> list:
    return [row.due_at for row in FollowUp.objects.filter(request=request).order_by("due_at")]


def test_charity_drug_follow_ups_are_monthly_and_stop_at_the_policy_expiry():
    # given 安盛 慈善赠药 服务流程4 "每月回访被保险人进行病程管理", policy ending 15 July 2026
    benefit = Benefit.objects.get(code="axa.zysh.charity_drug")
    request = completed_request(benefit, "FUCHARITY1", expires_on=date(2026, 7, 15))

    # when the service completes on 20 March
    follow_ups_plan(request, at(2026, 3, 20, 16))

    # then one a month at 10:00 while the policy runs: none on 20 July
    assert planned(request) == [at(2026, 4, 20, 10), at(2026, 5, 20, 10), at(2026, 6, 20, 10)]


def test_a_plan_added_to_the_terms_is_scheduled_without_code():
    # given a benefit with no follow-ups, given two, a fortnight apart, in its terms
    benefit = Benefit.objects.get(code="pingan.health.escort")
    assert benefit.parsed_terms.follow_ups == []
    terms = {
        **benefit.terms,
        "follow_ups": [
            {
                "code": "after_escort",
                "label": "陪诊后回访",
                "starts_on": "completed",
                "every": {"amount": 2, "unit": "weeks"},
                "count": 2,
                "clause": "测试",
            }
        ],
    }
    Benefit.objects.filter(pk=benefit.pk).update(terms=terms)
    request = completed_request(
        Benefit.objects.get(pk=benefit.pk), "FUESCORT01", expires_on=date(2026, 7, 15)
    )

    follow_ups_plan(request, at(2026, 3, 20, 16))

    assert planned(request) == [at(2026, 4, 3, 10), at(2026, 4, 17, 10)]
