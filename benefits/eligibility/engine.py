"""The eligibility engine: a plain function of (benefit terms, facts) that evaluates every
rule and returns every failure, each with its public reason code, a Chinese message with the
specific numbers and dates, and the handbook clause it comes from; every fact a rule needs and
was not given (``Verdict.missing``); and what could not be checked (``Verdict.unchecked``).

``evaluate`` touches no database: the caller gathers the facts (``benefits.eligibility.facts``,
the one builder every channel uses) and passes them in, so the rules are tested without HTTP
or fixtures. The checks are in ``benefits.eligibility.checks``, the types in
``benefits.eligibility.model``.

Every duration is counted by ``benefits.calendar.durations``. Working-clock durations (lead
times, validities, window offsets) and ``filing_deadline`` are reckoned on the working
calendar the caller passes in ``Facts.calendar``; without one they are reported in
``Verdict.unchecked`` instead of being silently passed, as is a network rule whose list cannot
be consulted (an annex printed only as a QR code and not imported yet).

The verdict also carries the fulfilment tier (``benefits.eligibility.tiers``) where the terms
define one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from benefits.eligibility.checks import CHECKS, cn_date, needs_working_calendar, per_use_limits
from benefits.eligibility.model import (
    AmountCheck,
    Facts,
    Missing,
    PartExcluded,
    Reason,
    Unchecked,
    Verdict,
)
from benefits.eligibility.tiers import distance_refusal, fulfilment_tier
from benefits.terms import display as terms_display
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.rules import NetworkRule

# Failures that heal with time alone: only then is the next eligible date knowable.
TIMED_REASONS = frozenset({"cooling_off", "waiting_period"})


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def evaluate(terms: BenefitTerms, facts: Facts) -> Verdict:
    """Every rule of the benefit, every failure, every missing fact; never stops at the
    first."""
    reasons: list[Reason] = []
    missing: list[Missing] = []
    unchecked: list[str] = []
    limitations: list[Reason] = []
    next_dates: list[date] = []
    amount_checks: list[AmountCheck] = []
    variants = terms.variant_codes()
    variant = facts.scope.variant or terms.default_variant or None
    if variant is not None and variant not in variants:
        variant = None  # a mode the benefit does not have: asked again, never a way around
    for rule in terms.rules:
        if rule.only_for:
            # A rule scoped to variants of the service (MDT 线下 list, 齿科 network per option).
            if variant is None:
                options = "、".join(variants.get(code, code) for code in variants)
                if all(m.fact != "variant" for m in missing):
                    missing.append(Missing.of("variant", f"可选：{options}"))
                continue
            if variant not in rule.only_for:
                continue
        check = CHECKS.get(type(rule))
        if (
            check is None
            or (facts.calendar is None and needs_working_calendar(rule))
            or (isinstance(rule, NetworkRule) and rule.coverage_list in facts.uncheckable)
        ):
            if rule.kind not in unchecked:
                unchecked.append(rule.kind)
            continue
        outcome = check(rule, facts)
        if outcome is None:
            continue
        if isinstance(outcome, Unchecked):
            if rule.kind not in unchecked:
                unchecked.append(rule.kind)
            continue
        if isinstance(outcome, AmountCheck):
            amount_checks.append(outcome)
            if not outcome.passed:
                reasons.append(Reason(rule.kind, outcome.message, rule.clause))
            continue
        if isinstance(outcome, PartExcluded):
            limitations.append(Reason(rule.kind, outcome.message, rule.clause))
            continue
        if isinstance(outcome, Missing):
            if all(m.fact != outcome.fact for m in missing):
                missing.append(Missing(outcome.fact, outcome.message, rule.kind))
            continue
        message, passes_on = outcome if isinstance(outcome, tuple) else (outcome, None)
        reasons.append(Reason(rule.kind, message, rule.clause))
        if passes_on is not None:
            next_dates.append(passes_on)
    reasons.extend(_quota_reasons(terms, facts))
    if terms.quota.category_caps and not facts.category:
        # Which money cap a use draws on (省内 / 省外) is the caller's to say.
        labels = "/".join(cap.label for cap in terms.quota.category_caps)
        missing.append(Missing.of("category", f"可选：{labels}"))
    too_far = distance_refusal(terms, facts.tier)
    if too_far is not None:
        reasons.append(Reason("not_in_network", *too_far))
    heals = len(next_dates) == len(reasons) and all(r.code in TIMED_REASONS for r in reasons)
    # A day after the policy ends is no day to wait for.
    heals = heals and max(next_dates, default=facts.policy.expires_on) <= facts.policy.expires_on
    return Verdict(
        reasons=reasons,
        unchecked=unchecked,
        missing=missing,
        next_eligible_on=max(next_dates) if reasons and heals else None,
        tier=fulfilment_tier(terms, facts.tier, facts.covered_by),
        limitations=limitations,
        amount_checks=amount_checks,
    )


def _quota_reasons(terms: BenefitTerms, facts: Facts) -> list[Reason]:
    """The reasons derived from the quota, the prerequisites and the exclusive choice."""
    reasons = [
        Reason("quota_exhausted", message, terms.quota.clause)
        for message in per_use_limits(terms.quota, facts)
    ]
    for label, needed in facts.needed.items():
        left = facts.remaining.get(label, Decimal(0))
        if left < needed:
            reasons.append(
                Reason(
                    "quota_exhausted",
                    f"{label}本期剩余{_number(left)}，本次需要{_number(needed)}",
                    terms.quota.clause,
                )
            )
    for needed_any in terms.prerequisite_any:
        if not needed_any.any_of_used(facts.scope.used_benefits):
            names = "、".join(facts.benefit_names.get(code, code) for code in needed_any.any_of)
            reasons.append(
                Reason(
                    "prerequisite_missing",
                    f"须在使用{needed_any.label}（{names}之一）时使用",
                    needed_any.clause,
                )
            )
    for prerequisite in terms.prerequisites:
        if prerequisite.benefit not in facts.completed_benefits:
            name = facts.benefit_names.get(prerequisite.benefit, prerequisite.benefit)
            reasons.append(Reason("prerequisite_missing", f"须先完成“{name}”", prerequisite.clause))
    ends = facts.window_ends_on
    if ends is not None and facts.at.date() > ends and terms.quota.window:
        # The time window of the quota has closed: a window, not a count (outside_window).
        reasons.append(
            Reason(
                "outside_window",
                f"服务启动后{terms_display.duration(terms.quota.window)}内有效，"
                f"已于{cn_date(ends)}届满，剩余权益已失效",
                terms.quota.clause,
            )
        )
    choice = terms.exclusive_choice
    if choice and choice.group in facts.exclusive_groups_used:
        reasons.append(
            Reason(
                "exclusive_choice_used",
                f"本保单年度已选择过{len(choice.options)}选{choice.choose}中的项目",
                choice.clause,
            )
        )
    return reasons
