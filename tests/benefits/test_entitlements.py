"""Which pools a benefit draws on, as the handbooks define them."""

from datetime import date
from decimal import Decimal

import pytest

from benefits.models import Benefit, Person, Policy
from benefits.quota.entitlements import PeriodUnknown, pools_for


@pytest.fixture
def policy(db):
    holder = Person(name="赵六", id_number="11010519491231002X", birth_date=date(1949, 12, 31))
    holder.save()
    return Policy.objects.create(
        number="P-ENT-1",
        product=Benefit.objects.get(code="pingan.health.escort").product,
        signed_on=date(2024, 2, 20),
        effective_on=date(2024, 2, 29),
        expires_on=date(2027, 2, 28),
        holder=holder,
        family=True,
    )


def shape(specs):
    return [
        (
            s.key.pool_kind,
            s.key.person is None,
            s.key.measure,
            s.key.category,
            s.key.period_key,
            s.amount,
        )
        for s in specs
    ]


def pools(code, policy, on=date(2025, 6, 1), **facts):
    return pools_for(
        benefit=Benefit.objects.get(code=code), policy=policy, person=policy.holder, on=on, **facts
    )


def test_pingan_escort_is_one_use_a_policy_year_pooled_by_the_family(policy):
    # 003 服务共享规则; a 29 February start: the 2025 policy year begins on 28 February
    assert shape(pools("pingan.health.escort", policy)) == [
        ("family_policy", True, "times", "", "year:2025-02-28", Decimal(1))
    ]


def test_manulife_carer_draws_on_thirty_days_and_two_requests_a_year(policy):
    # 001 八、每个保单年度累计不超过30天，至多可以申请2次
    measures = {(s.key.measure, s.amount) for s in pools("manulife.dmm.inpatient_carer", policy)}
    assert measures == {("days", Decimal(30)), ("requests", Decimal(2))}


def test_travel_subsidy_has_one_money_pool_per_category(policy):
    # 001 三、省内最高2000元/年，省外最高5000元/年
    specs = pools("manulife.dmm.travel_subsidy", policy)
    assert {(s.key.measure, s.amount) for s in specs} == {
        ("cny", Decimal(2000)),
        ("cny", Decimal(5000)),
    }
    assert len({s.key.category for s in specs}) == 2


def test_psych_hotline_is_the_members_pool_shared_with_family(policy):
    # 001 四、被服务人及其家属每个保单年度可享有本服务6次
    (spec,) = pools("manulife.dmm.psych_hotline", policy)
    assert (spec.key.pool_kind, spec.key.person, spec.amount) == ("member_family", policy.holder, 6)


def test_a_per_stay_benefit_needs_the_stay(policy):
    with pytest.raises(PeriodUnknown, match="每次住院"):
        pools("pingan.health.hospital_visit", policy)
    (spec,) = pools("pingan.health.hospital_visit", policy, hospitalisation_id=17)
    assert spec.key.period_key == "stay:17"


def test_an_unlimited_benefit_has_no_pool(policy):
    assert pools("pingan.health.inpatient_advance", policy) == []


def test_device_direct_pay_is_once_for_the_whole_policy(policy):
    (spec,) = pools("axa.zysh.device_direct_pay", policy)
    assert (spec.key.period_key, spec.key.period_end) == ("policy", date(2027, 2, 28))
