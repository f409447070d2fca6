"""The checks of the rule kinds of issue 14: the policy's sum insured, plan and riders; an
item on the benefit's list with its own conditions; mutual exclusion; the hospital away from
the registered home; amount pre-checks; document validity; requests out of scope. Same
contract as ``benefits.eligibility.checks``: None (passes), a Chinese failure message,
``Missing``, ``UNCHECKED``, or an ``AmountCheck`` (passed or not) for a pre-check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from benefits.eligibility.model import UNCHECKED, AmountCheck, Facts, Missing, Unchecked
from benefits.terms import display as terms_display
from benefits.terms.rules import (
    AmountCheckRule,
    AwayFromHomeRule,
    DocumentRule,
    ItemListRule,
    MutualExclusionRule,
    OutOfScopeRule,
    RiderRule,
    SumInsuredRule,
)

HOSPITAL_GRADES = ("一级", "二级", "三级", "三甲")


def _yuan(value: Decimal) -> str:
    return f"{format(value.normalize(), ',f')}元"


def _sum_insured(rule: SumInsuredRule, facts: Facts) -> str | Unchecked | None:
    """保额 and 计划: a policy whose sum insured fell below the level (or whose plan is not
    one that carries the service) no longer has it; not recorded yet: unchecked."""
    policy = facts.policy
    if rule.plan_levels:
        if not policy.plan_level:
            return UNCHECKED
        if policy.plan_level not in rule.plan_levels:
            return (
                f"保单计划为“{policy.plan_level}”，本服务仅限"
                f"{'、'.join(rule.plan_levels)}，服务已终止"
            )
    floors = []
    if rule.min_sum_insured is not None:
        floors.append(rule.min_sum_insured)
    if rule.at_least_standard:
        if policy.standard_sum_insured is None:
            return UNCHECKED
        floors.append(policy.standard_sum_insured)
    if not floors:
        return None
    if policy.sum_insured is None:
        return UNCHECKED
    floor = max(floors)
    if policy.sum_insured < floor:
        return (
            f"保单保额{_yuan(policy.sum_insured)}低于本服务要求的{_yuan(floor)}"
            f"（{rule.description or '降低保额未达到相应标准'}），服务已终止"
        )
    return None


def _rider(rule: RiderRule, facts: Facts) -> str | None:
    if rule.rider in facts.policy.riders:
        return None
    return f"保单未投保“{rule.label}”，不享有本服务"


def _item(rule: ItemListRule, facts: Facts) -> str | Missing | Unchecked | None:
    """The item must be on the list, then meet its own conditions (age, conditions)."""
    named = facts.scope.item
    if not rule.items:  # an annex list: consulted once imported
        covered = facts.covered_by.get(rule.coverage_list or "")
        if named is None:
            return Missing.of("item", f"须为名单内的{rule.label}")
        if covered is None:
            return UNCHECKED
        return None if covered else f"“{named}”不在本服务的{rule.label}名单内"
    labels = "、".join(item.label for item in rule.items)
    if named is None:
        return Missing.of("item", f"可选：{labels}")
    item = next(
        (i for i in rule.items if named in (i.code, i.label, *i.aliases)),
        None,
    )
    if item is None:
        return f"“{named}”不在本服务的{rule.label}范围内（限：{labels}）"
    age = _age(facts)
    if item.min_age is not None and age < item.min_age:
        return f"{item.label}须年满{item.min_age}周岁方可使用，服务对象当前{age}周岁"
    if item.max_age is not None and age > item.max_age:
        return f"{item.label}限{item.max_age}周岁（含）以下，服务对象当前{age}周岁"
    excluded = [code for code in item.excluded_conditions if code in facts.conditions]
    if excluded:
        return f"{item.label}不适用于当前情形（{'、'.join(excluded)}）"
    return None


def _age(facts: Facts) -> int:
    birth, on = facts.recipient.birth_date, facts.at.date()
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _exclusion(rule: MutualExclusionRule, facts: Facts) -> str | None:
    clash = [e.label for e in rule.excludes if e.code in facts.scope.also_using]
    if clash:
        return f"本服务与{'、'.join(clash)}不可同时使用"
    return None


def _away(rule: AwayFromHomeRule, facts: Facts) -> str | Missing | None:
    """异地: the hospital's city (or province) differs from the recipient's 户口 (or home)."""
    scope = facts.scope
    if scope.hospital_city is None:
        return Missing.of("place", "以核对是否异地就医")
    province = rule.level == "province"
    if rule.home == "hukou":
        home = scope.hukou_province if province else scope.hukou_city
        if home is None:
            return Missing.of("hukou_city")
    else:
        home = scope.home_province if province else scope.home_city
        if home is None:
            return Missing.of("home_city")
    there = scope.hospital_province if province else scope.hospital_city
    if there == home:
        where = "户籍所在" if rule.home == "hukou" else "常住"
        unit = "省份" if province else "城市"
        return f"就诊医院与被服务人{where}{unit}相同，不属于异地就医"
    return None


def _amount(rule: AmountCheckRule, facts: Facts) -> AmountCheck | Unchecked:
    """Before the bill there is no amount to check: unchecked (reported), never passed; with
    the amounts, the answer says which it used."""
    amounts = facts.amounts
    if rule.measure == "self_pay_over_deductible":
        if amounts.self_pay is None or amounts.deductible is None:
            return UNCHECKED
        passed = amounts.self_pay > amounts.deductible
        verb = "超过" if passed else "未超过"
        return AmountCheck(
            rule.measure,
            amounts.self_pay,
            amounts.deductible,
            passed,
            f"自费金额{_yuan(amounts.self_pay)}{verb}免赔额{_yuan(amounts.deductible)}",
        )
    if amounts.requested is None or amounts.sum_insured_left is None:
        return UNCHECKED
    passed = amounts.requested <= amounts.sum_insured_left
    verb = "未超过" if passed else "超过"
    return AmountCheck(
        rule.measure,
        amounts.requested,
        amounts.sum_insured_left,
        passed,
        f"申请金额{_yuan(amounts.requested)}{verb}本保单年度剩余保额"
        f"{_yuan(amounts.sum_insured_left)}",
    )


def _document(rule: DocumentRule, facts: Facts) -> str | Unchecked | None:
    """A prescription used within its validity ("3 个自然日", from the day of issue as day 1)
    and issued by a hospital of the grade the handbook asks. A document not described yet
    (it comes with the records) leaves the rule unchecked, never passed."""
    document = facts.documents.get(rule.document)
    if document is None:
        return UNCHECKED
    if rule.valid_for is not None:
        if document.issued_on is None:
            return UNCHECKED
        on = facts.planned_at.date() if facts.planned_at else facts.at.date()
        days = terms_display.duration(rule.valid_for)
        last = document.issued_on + timedelta(days=int(_days(rule)) - 1)
        if on > last:
            return (
                f"{rule.label}有效期{days}（{document.issued_on:%Y年%m月%d日}开具，"
                f"至{last:%Y年%m月%d日}），已过有效期"
            )
    if rule.min_issuer_grade is not None:
        if document.issuer_grade not in HOSPITAL_GRADES:
            return UNCHECKED
        wanted = HOSPITAL_GRADES.index(rule.min_issuer_grade)
        if HOSPITAL_GRADES.index(document.issuer_grade) < wanted:
            return (
                f"{rule.label}须由{rule.min_issuer_grade}及以上医院出具，"
                f"该医院为{document.issuer_grade}"
            )
    return None


def _days(rule: DocumentRule) -> Decimal:
    assert rule.valid_for is not None
    per = {"days": 1, "weeks": 7}[rule.valid_for.unit]  # the only units DocumentRule takes
    return rule.valid_for.amount * per


def _out_of_scope(rule: OutOfScopeRule, facts: Facts) -> str | None:
    asked = facts.scope.request_type
    hit = next((r for r in rule.excluded if r.code == asked), None)
    if hit is not None:
        return f"{hit.label}不在本服务范围内"
    return None


POLICY_CHECKS: dict[type, Callable[[Any, Facts], Any]] = {
    SumInsuredRule: _sum_insured,
    RiderRule: _rider,
    ItemListRule: _item,
    MutualExclusionRule: _exclusion,
    AwayFromHomeRule: _away,
    AmountCheckRule: _amount,
    DocumentRule: _document,
    OutOfScopeRule: _out_of_scope,
}
