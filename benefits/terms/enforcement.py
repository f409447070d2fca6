"""What the product does with every field of the terms, so data and engine cannot drift apart.

Each field of each terms model is either

* ``Evaluated``: read by the code named in ``by`` (a module, or a function in it) to decide
  something — eligibility, quota, an SLA clock, a cancellation, a tier;
* ``Descriptive``: words shown to people (a clause, a label, a note) or a name the data uses
  to refer to itself, which decide nothing; or
* ``NotEvaluated``: a field the schema knows but no code acts on yet. Terms that set it to
  anything but its default are refused (``unevaluated_settings``), at load and in the admin
  form, because the handbook would say something the product silently ignores.

``tests/benefits/test_terms_enforcement.py`` walks every pydantic model the terms are made of
and fails when a field has no entry here (or an entry names code that does not read it), so a
new field cannot be added without saying who enforces it. Entries are keyed by class name
(the terms models import this module, not the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Evaluated:
    by: str  # dotted path of the module or function that reads the field


@dataclass(frozen=True)
class Descriptive:
    why: str


@dataclass(frozen=True)
class NotEvaluated:
    why: str  # in Chinese: said to the admin whose data sets the field


Use = Evaluated | Descriptive | NotEvaluated

CLAUSE = Descriptive("the handbook's words, shown with the reason or the promise")
LABEL = Descriptive("a name shown to people")
CODE = Descriptive("a code the data refers to the item by")
KIND = Evaluated("benefits.terms.benefit_terms")  # the discriminator picks the model
ENGINE = "benefits.eligibility.engine.evaluate"
CHECKS = "benefits.eligibility.checks"
POOLS = "benefits.quota.entitlements.pools_for"
DURATIONS = "benefits.calendar.durations.add"
SLA = "bookings.sla.clocks"
TIERS = "benefits.eligibility.tiers"
# Cancellation and what a started or failed service does to the quota: bookings.lifecycle.
LIFECYCLE = Evaluated("bookings.lifecycle.cancellation")


FIELDS: dict[str, dict[str, Use]] = {
    "BenefitTerms": {
        "summary": Descriptive("the one-line summary on the benefit's page"),
        "quota": Evaluated(POOLS),
        "exclusive_choice": Evaluated("benefits.eligibility.engine._quota_reasons"),
        "prerequisites": Evaluated("benefits.eligibility.engine._quota_reasons"),
        "deliverable": Evaluated("bookings.lifecycle.services.delivery_check"),
        "rules": Evaluated(ENGINE),
        "cancellation": LIFECYCLE,
        "sla": Evaluated(f"{SLA}.milestones_create"),
        "service_hours": Evaluated(f"{SLA}.clock_hours"),
        "documents": Evaluated("portal.pages.request_forms"),
        "applicants": Descriptive("who may apply, shown in the terms (describe_terms)"),
        "coverage_lists": Evaluated("benefits.terms.benefit_terms"),  # rules must declare lists
        "tiers": Evaluated(f"{TIERS}.fulfilment_tier"),
        "follow_ups": Evaluated("bookings.messages.followups"),
        "notes": Descriptive("what the data could not say, for the admins who read it"),
        "prerequisite_any": Evaluated("benefits.eligibility.engine._quota_reasons"),
        "variants": Evaluated(f"{ENGINE}"),  # a scoped rule applies to its variants only
        "default_variant": Evaluated(f"{ENGINE}"),
        "reviews": Evaluated("bookings.lifecycle.reviews.review_gate_check"),
    },
    "Variant": {"code": Evaluated(ENGINE), "label": LABEL},
    "AnyPrerequisite": {
        "any_of": Evaluated("benefits.eligibility.history.used_benefits"),
        "label": LABEL,
        "clause": CLAUSE,
    },
    "ReviewGate": {
        "code": Evaluated("bookings.lifecycle.reviews.review_gate_check"),
        "label": LABEL,
        "by": Descriptive("who decides, shown to staff and recorded with the decision"),
        "before": Evaluated("bookings.lifecycle.reviews.review_gate_check"),
        # The milestone is an ordinary SLA milestone; the gate names it for staff.
        "sla": Evaluated("benefits.terms.benefit_terms"),
        "clause": CLAUSE,
    },
    "SumInsuredRule": {
        "clause": CLAUSE,
        "kind": KIND,
        **dict.fromkeys(
            ("min_sum_insured", "at_least_standard", "plan_levels"),
            Evaluated("benefits.eligibility.checks_policy._sum_insured"),
        ),
        "description": Descriptive("the standard in the handbook's words"),
    },
    "RiderRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "rider": Evaluated("benefits.eligibility.checks_policy._rider"),
        "label": LABEL,
    },
    "ItemListRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "label": LABEL,
        "items": Evaluated("benefits.eligibility.checks_policy._item"),
        "coverage_list": Evaluated("benefits.eligibility.checks_policy._item"),
    },
    "ListItem": {
        "code": Evaluated("benefits.eligibility.checks_policy._item"),
        "label": LABEL,
        "aliases": Evaluated("benefits.eligibility.checks_policy._item"),
        "min_age": Evaluated("benefits.eligibility.checks_policy._item"),
        "max_age": Evaluated("benefits.eligibility.checks_policy._item"),
        "excluded_conditions": Evaluated("benefits.eligibility.checks_policy._item"),
        "note": Descriptive("what the list prints beside the item"),
    },
    "MutualExclusionRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "excludes": Evaluated("benefits.eligibility.checks_policy._exclusion"),
    },
    "ExclusiveWith": {
        "code": Evaluated("benefits.eligibility.checks_policy._exclusion"),
        "label": LABEL,
    },
    "AwayFromHomeRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "home": Evaluated("benefits.eligibility.checks_policy._away"),
        "level": Evaluated("benefits.eligibility.checks_policy._away"),
        "description": Descriptive("the definition in the handbook's words"),
    },
    "AmountCheckRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "measure": Evaluated("benefits.eligibility.checks_policy._amount"),
        "description": Descriptive("the check in the handbook's words"),
    },
    "DocumentRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "document": Evaluated("benefits.eligibility.checks_policy._document"),
        "label": LABEL,
        "valid_for": Evaluated("benefits.eligibility.checks_policy._document"),
        "min_issuer_grade": Evaluated("benefits.eligibility.checks_policy._document"),
        "title": Descriptive("the invoice title, shown; the vendor checks the invoice"),
    },
    "OutOfScopeRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "excluded": Evaluated("benefits.eligibility.checks_policy._out_of_scope"),
    },
    "RequestType": {
        "code": Evaluated("benefits.eligibility.checks_policy._out_of_scope"),
        "label": LABEL,
    },
    "Quota": {
        "unit": Evaluated(POOLS),
        "amount": Evaluated(POOLS),
        "period": Evaluated(POOLS),
        "window": Evaluated(POOLS),
        "sharing": Evaluated(POOLS),
        "category_caps": Evaluated(POOLS),
        "limits": Evaluated(POOLS),
        "max_per_use": Evaluated(f"{CHECKS}.per_use_limits"),
        "lapses_once_started": Evaluated("bookings.lifecycle.services.request_transition"),
        "clause": CLAUSE,
    },
    "Duration": {
        "amount": Evaluated(DURATIONS),
        "unit": Evaluated(DURATIONS),
        "clock": Evaluated(DURATIONS),
    },
    "Offset": {
        "amount": Evaluated(DURATIONS),
        "unit": Evaluated(DURATIONS),
        "clock": Evaluated(DURATIONS),
        "direction": Evaluated(f"{CHECKS}._offset"),
    },
    "CategoryCap": {"category": Evaluated(POOLS), "label": LABEL, "amount": Evaluated(POOLS)},
    "Limit": {"kind": Evaluated(POOLS), "amount": Evaluated(POOLS), "period": Evaluated(POOLS)},
    "ExclusiveChoice": {
        "group": Evaluated("benefits.eligibility.engine._quota_reasons"),
        "choose": NotEvaluated("只支持“多选一”：任一选项用过即视为已选（choose 只能为 1）"),
        # BenefitTerms refuses a period other than the quota's, whose pools say what was used.
        "period": Evaluated("benefits.terms.benefit_terms"),
        "options": Evaluated("portal.pages.request_forms"),
        "clause": CLAUSE,
    },
    "ChoiceOption": {
        "code": Evaluated("portal.pages.request_forms"),
        "label": LABEL,
        "amount": Descriptive("what the option gives (4 颗), decided by the clinic; shown"),
        "unit_label": LABEL,
    },
    "Prerequisite": {
        "benefit": Evaluated("benefits.eligibility.history.delivered_prerequisites"),
        "clause": CLAUSE,
    },
    "PolicyInForceRule": {"clause": CLAUSE, "kind": KIND},
    "CoolingOffRule": {"clause": CLAUSE, "kind": KIND, "days": Evaluated(f"{CHECKS}._cooling_off")},
    "WaitingPeriodRule": {
        "clause": CLAUSE,
        "kind": KIND,
        **dict.fromkeys(
            (
                "days",
                "inclusive",
                "waived_on_transfer",
                "diagnosis_inside_disqualifies",
                "measured_on",
            ),
            Evaluated(f"{CHECKS}._waiting"),
        ),
    },
    "ServiceValidityRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "valid_for": Evaluated(f"{CHECKS}._validity"),
        "renews_with_policy": Evaluated(f"{CHECKS}._validity"),
    },
    "CoveredConditionRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "description": Descriptive("the diseases covered, in the handbook's words"),
        **dict.fromkeys(
            ("disease_list", "accept_suspected", "require_first_diagnosis"),
            Evaluated(f"{CHECKS}._condition"),
        ),
    },
    "UnsuitableConditionRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "conditions": Evaluated(f"{CHECKS}._unsuitable"),
    },
    "UnsuitableCondition": {
        "code": Evaluated(f"{CHECKS}._unsuitable"),
        "label": LABEL,
        "part": Evaluated(f"{CHECKS}._unsuitable"),
    },
    "HospitalisationRule": {
        "clause": CLAUSE,
        "kind": KIND,
        **dict.fromkeys(
            (
                "min_days",
                "exclude_day_surgery",
                "excluded_wards",
                "exclude_pregnancy",
                "requires_discharge",
                "requires_surgery",
            ),
            Evaluated(f"{CHECKS}._stay"),
        ),
    },
    "TimeWindowRule": {
        "clause": CLAUSE,
        "kind": KIND,
        **dict.fromkeys(
            ("subject", "anchor", "not_before", "not_after"), Evaluated(f"{CHECKS}._window")
        ),
        "description": Descriptive("the window in the handbook's words"),
    },
    "AgeRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "min_years": Evaluated(f"{CHECKS}._age_rule"),
        "max_years": Evaluated(f"{CHECKS}._age_rule"),
    },
    "RecipientRule": {
        "clause": CLAUSE,
        "kind": KIND,
        **dict.fromkeys(
            ("allowed", "family_relations", "family_must_be_insured"),
            Evaluated(f"{CHECKS}._recipient"),
        ),
    },
    "NetworkRule": {
        "clause": CLAUSE,
        "kind": KIND,
        # The list's own kind decides how it is consulted; target says what it names.
        "target": Descriptive("what the network names (city, hospital, pharmacy)"),
        "location": Evaluated("benefits.eligibility.places.network_coverage"),
        "coverage_list": Evaluated("benefits.eligibility.places.network_coverage"),
        # The catalogue refuses a rule whose scope differs from its list's, which is applied.
        "scope": Evaluated("benefits.catalogue.files"),
        "min_hospital_grade": Evaluated(f"{CHECKS}._hospital_grade"),
        "public_only": Evaluated(f"{CHECKS}._hospital_grade"),
        "description": Descriptive("the network in the handbook's words"),
    },
    "LeadTimeRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "min_lead": Evaluated(f"{CHECKS}._lead_time"),
        # The lead runs to the planned time, whatever it is called: the word is shown.
        "before": Descriptive("what the planned time is (就诊、购药), shown in the rule"),
        "per_site": Evaluated(f"{CHECKS}._lead_time"),
    },
    "SiteLeadTime": {
        "site": Evaluated(f"{CHECKS}._lead_time"),
        "min_lead": Evaluated(f"{CHECKS}._lead_time"),
    },
    "FilingDeadlineRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "deadlines": Evaluated(f"{CHECKS}._filing"),
    },
    "FilingDeadline": {
        "after": Evaluated(f"{CHECKS}._filing"),
        "within": Evaluated(f"{CHECKS}._filing"),
        "label": LABEL,
    },
    "CitizenshipRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "mainland_only": Evaluated(f"{CHECKS}._citizenship"),
    },
    "FareClassRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "fares": Evaluated(f"{CHECKS}._fare_class"),
    },
    "FareClass": {
        "transport": Evaluated(f"{CHECKS}._fare_class"),
        "allowed": Evaluated(f"{CHECKS}._fare_class"),
    },
    "ServiceHoursRule": {
        "clause": CLAUSE,
        "kind": KIND,
        "subject": Evaluated(f"{CHECKS}._service_hours"),
        "hours": Evaluated(f"{CHECKS}._service_hours"),
        "description": Descriptive("the hours in the handbook's words"),
    },
    "CancellationPolicy": {
        **dict.fromkeys(
            (
                "free_before",
                "counted_as_used_from",
                "max_changes",
                "no_show_counts_as_used",
                "vendor_failure_returns_quota",
                "force_majeure_keeps_quota",
                "discharge_change_returns_quota",
                "late_counts_as_used_from",
                "change_notice",
                "late_change_counts_as_used",
                "boundary",
                "beyond_max_changes",
                "hospital_reason_keeps_quota",
            ),
            LIFECYCLE,
        ),
        # Kept so admins can switch to it; shown, not applied.
        "alternatives": Descriptive("another window printed elsewhere, shown to admins"),
        "clause": CLAUSE,
    },
    "AlternativeCancellation": {
        "free_before": Descriptive("the alternative's window, shown to admins"),
        "clause": CLAUSE,
    },
    "SlaMilestone": {
        "code": CODE,
        "label": LABEL,
        **dict.fromkeys(
            (
                "starts_on",
                "met_by",
                "tracked",
                "due",
                "due_from",
                "target",
                "business_hours",
                "alternative",
                "due_end_of_day",
                "same_day",
                "paused_by",
            ),
            Evaluated(SLA),
        ),
        "note": Descriptive("why a milestone is read the way it is"),
        "clause": CLAUSE,
    },
    "SlaAlternative": {"group": Evaluated(SLA), "choice": Evaluated(SLA)},
    "BusinessHours": {
        "days": Evaluated("benefits.calendar.workcalendar"),
        "start": Evaluated("benefits.calendar.workcalendar"),
        "end": Evaluated("benefits.calendar.workcalendar"),
        "label": LABEL,
    },
    "DocumentRequirement": {
        "code": Evaluated("portal.pages.request_forms"),
        "label": LABEL,
        # Documents are asked for, never checked for completeness: "（如有）" is shown.
        "required": Descriptive("whether the document is always needed, shown as （如有）"),
        "when": Descriptive("when the document is needed (如已进行基因检测), shown"),
    },
    "DistanceTier": {
        "kind": Evaluated(TIERS),
        "code": CODE,
        "label": LABEL,
        "max_km": Evaluated(f"{TIERS}.distance_tier"),
        "over_km": Evaluated(f"{TIERS}.distance_tier"),
        "provides": Descriptive("what the tier provides, shown"),
        "clause": CLAUSE,
    },
    "DailyRateTier": {
        "kind": Evaluated(TIERS),
        "code": CODE,
        "label": LABEL,
        "cities": Evaluated(f"{TIERS}.daily_rate_tier"),
        "day_rate": Evaluated(f"{TIERS}.daily_rate_tier"),
        "max_days": Evaluated(f"{TIERS}.daily_rate_tier"),
        "clause": CLAUSE,
    },
    "AdvanceFormulaTier": {
        "kind": Evaluated(TIERS),
        "code": CODE,
        "label": LABEL,
        "capped_by_sum_insured": Evaluated(f"{TIERS}.advance_amount"),
        # Staff read these in the tier's message; the vendor applies them to the invoice.
        "excludes_first_deposit": Descriptive("said in the advance message (不含首次押金)"),
        "top_ups_allowed": Descriptive("said in the advance message (可申请追加)"),
        "clause": CLAUSE,
    },
    "AmountThresholdTier": {
        "kind": Evaluated(TIERS),
        "code": CODE,
        "label": LABEL,
        "min_amount": Evaluated(f"{TIERS}.amount_threshold_tier"),
        "requires": Descriptive("the review the purchase needs, shown"),
        "payout_ratio_without": Descriptive("the reduced payout, shown (paid by claims)"),
        "clause": CLAUSE,
    },
    "CoverageModeTier": {
        "kind": Evaluated(TIERS),
        "code": CODE,
        "label": LABEL,
        "coverage_list": Evaluated(f"{TIERS}.coverage_mode_tier"),
        "location": Evaluated("benefits.eligibility.places.network_coverage"),
        "inside": Evaluated(f"{TIERS}.coverage_mode_tier"),
        "outside": Evaluated(f"{TIERS}.coverage_mode_tier"),
        "clause": CLAUSE,
    },
    "FollowUp": {
        "code": CODE,
        "label": LABEL,
        **dict.fromkeys(
            ("starts_on", "every", "count", "until_policy_expiry"),
            Evaluated("bookings.messages.followups"),
        ),
        "clause": CLAUSE,
    },
}


# Every rule kind may be scoped to variants of the service: the engine skips it otherwise.
for _name, _uses in FIELDS.items():
    if _name.endswith("Rule"):
        _uses.setdefault("only_for", Evaluated(f"{ENGINE}"))


def unevaluated_settings(model: BaseModel, path: str = "") -> list[str]:
    """Every field of ``model`` (and the models inside it) that is ``NotEvaluated`` and set
    to something other than its default, as Chinese messages naming the field."""
    problems: list[str] = []
    uses = FIELDS.get(type(model).__name__, {})
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        where = f"{path}{name}"
        use = uses.get(name)
        if isinstance(use, NotEvaluated) and value != info.get_default(call_default_factory=True):
            problems.append(f"{where}：{use.why}；系统尚不执行此字段，不能设置")
        problems += _inside(value, f"{where}.")
    return problems


def _inside(value: Any, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return unevaluated_settings(value, path)
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in _inside(item, f"{path}{i}.")]
    return []
