"""The typed terms of a benefit: quota, rules, cancellation, SLA, documents, tiers.

A benefit's terms are data (stored as JSON on ``Benefit.terms``) validated by these pydantic
models, so that a new insurer's handbook means new data, not new code. Every rule kind maps
to exactly one public reason code (DOMAIN.md §3); three reason codes (``quota_exhausted``,
``prerequisite_missing``, ``exclusive_choice_used``) are derived from the quota, the
prerequisites and the exclusive-choice group rather than listed as rules.

Validation messages are Chinese because admins read them in the admin form and in the
output of ``load_catalogue``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# --- vocabularies -----------------------------------------------------------------------

REASON_CODES: tuple[str, ...] = (
    "policy_not_in_force",
    "cooling_off",
    "waiting_period",
    "service_expired",
    "condition_not_covered",
    "condition_unsuitable",
    "hospitalisation_required",
    "outside_window",
    "age",
    "recipient_not_allowed",
    "not_in_network",
    "lead_time",
    "quota_exhausted",
    "prerequisite_missing",
    "exclusive_choice_used",
    "filing_deadline",
    "citizenship",
)

TimeUnit = Literal["minutes", "hours", "days", "weeks", "months", "years"]
Clock = Literal["natural", "working"]
QuotaUnit = Literal["times", "days", "cny", "unlimited"]
Period = Literal["policy_year", "whole_policy", "per_hospitalisation", "window_after_start"]
Sharing = Literal["insured", "insured_and_family", "family_pool"]
# Events of a service request (and of the health episode behind it) that start a clock,
# anchor a window or make a cancellation count as used.
RequestEvent = Literal[
    "submitted",
    "records_complete",
    "approved",
    "assigned",
    "plan_confirmed",
    "scheduled",
    "in_service",
    "completed",
    "discharge_notified",
]
# The events that report a request's progress, in the order they happen: reaching one
# implies the earlier ones (approval needs complete records, an appointment needs a contact),
# so a milestone met by one is also met by any later one. ``met_by`` names one of these.
ProgressEvent = Literal[
    "records_complete",
    "approved",
    "assigned",
    "contacted",
    "plan_confirmed",
    "scheduled",
    "in_service",
    "completed",
]
PROGRESS_EVENTS: tuple[str, ...] = get_args(ProgressEvent)
# How one variant of an SLA alternative group is kept when the group's clocks start
# (FORMAT.md explains each): the variant whose business hours contain the start, the
# ordinary (first listed) one, or the one with the latest deadline.
AlternativeChoice = Literal["inside_hours", "ordinary", "most_lenient"]
# Events after which follow-ups (回访) can be scheduled: the engine plans them on completion.
FollowUpStart = Literal["completed"]
EpisodeAnchor = Literal[
    "admission",
    "discharge",
    "visit",
    "diagnosis",
    "service_start",
    "first_use",
    "purchase",
    "policy_effective",
]
Person = Literal["insured", "holder", "family", "guardian", "proxy"]
Relation = Literal["spouse", "child", "parent", "other"]
Ward = Literal["icu", "vip", "special_needs"]

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"“{value}”不是有效代码：只能用小写字母、数字和下划线，并以字母开头")
    return value


Slug = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_slug)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class Duration(Strict):
    """An amount of time on a clock: ``2 hours working`` is two working hours."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)]
    unit: TimeUnit
    clock: Clock = "natural"

    @model_validator(mode="after")
    def _working_clock_units(self) -> Duration:
        if self.clock == "working" and self.unit not in ("minutes", "hours", "days"):
            raise ValueError("工作时间只能以分钟、小时或工作日计")
        return self


class Offset(Duration):
    """A duration before or after an anchor event ("出院前24小时", "出院后3日内"); zero is
    the anchor itself ("出院前" = not after discharge)."""

    amount: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
    direction: Literal["before", "after"]


class BusinessHours(Strict):
    """When a service is staffed: working hours count only inside these."""

    days: Literal["working_days", "every_day", "every_day_except_holidays"]
    start: str = "00:00"
    end: str = "24:00"
    label: str = ""

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", value):
            raise ValueError(f"时间“{value}”格式应为 HH:MM")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("服务时间的结束须晚于开始")
        return self


# --- quota --------------------------------------------------------------------------------


class CategoryCap(Strict):
    """A money cap per category, e.g. 省内 2000 / 省外 5000 元每年."""

    category: Slug
    label: str
    amount: Money


class Limit(Strict):
    """A second limit beside the main quota (护工: at most 2 requests and 30 days a year)."""

    kind: Literal["requests", "days", "consecutive_days"]
    amount: Annotated[Decimal, Field(gt=0)]
    period: Period = "policy_year"


class Quota(Strict):
    unit: QuotaUnit
    amount: Annotated[Decimal, Field(gt=0)] | None = None
    period: Period = "policy_year"
    window: Duration | None = None
    sharing: Sharing = "insured"
    category_caps: list[CategoryCap] = []
    limits: list[Limit] = []
    # Longest single use ("每次最长6个月", "单次不超过4小时").
    max_per_use: Duration | None = None
    # Remaining units lapse once the service has started (7天住院陪护 "不可拆分").
    lapses_once_started: bool = False
    clause: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Quota:
        if self.unit == "unlimited":
            if self.amount is not None or self.category_caps:
                raise ValueError("不限次的权益不能再设数量或分类上限")
        elif self.amount is None and not self.category_caps:
            raise ValueError("有限次权益必须给出数量（或按类别的金额上限）")
        if self.category_caps and self.unit != "cny":
            raise ValueError("分类金额上限只适用于以人民币计的权益")
        if self.period == "window_after_start" and self.window is None:
            raise ValueError("“启动后时间窗”类权益必须给出时间窗长度")
        if self.period != "window_after_start" and self.window is not None:
            raise ValueError("只有“启动后时间窗”类权益才设时间窗长度")
        categories = [cap.category for cap in self.category_caps]
        if len(categories) != len(set(categories)):
            raise ValueError("金额上限的类别重复")
        return self

    @property
    def is_unlimited(self) -> bool:
        return self.unit == "unlimited"


class ChoiceOption(Strict):
    code: Slug
    label: str
    amount: Annotated[Decimal, Field(gt=0)]
    unit_label: str = "次"


class ExclusiveChoice(Strict):
    """Choose one of several options per period (儿童齿科 3选1)."""

    group: Slug
    choose: Annotated[int, Field(ge=1)] = 1
    period: Period = "policy_year"
    options: list[ChoiceOption]
    clause: str = ""

    @model_validator(mode="after")
    def _options(self) -> ExclusiveChoice:
        if len(self.options) <= self.choose:
            raise ValueError("多选一的选项数必须多于可选数")
        codes = [option.code for option in self.options]
        if len(codes) != len(set(codes)):
            raise ValueError("多选一的选项代码重复")
        return self


class Prerequisite(Strict):
    """Another benefit that must have reached ``state`` first (上门康护 needs 康护指导书)."""

    benefit: str
    state: Literal["completed", "approved", "in_service"] = "completed"
    clause: str = ""

    @field_validator("benefit")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"前置权益代码“{value}”格式不正确")
        return value


# --- eligibility rules ---------------------------------------------------------------------


class RuleBase(Strict):
    # The handbook clause the rule comes from, shown to the policyholder with the reason.
    clause: Annotated[str, Field(min_length=1)]


class PolicyInForceRule(RuleBase):
    kind: Literal["policy_not_in_force"]


class CoolingOffRule(RuleBase):
    kind: Literal["cooling_off"]
    # None: the policy's own cooling-off period (15 days unless the contract says otherwise).
    days: Annotated[int, Field(ge=1, le=60)] | None = None


class WaitingPeriodRule(RuleBase):
    kind: Literal["waiting_period"]
    # None: "与保险合同等待期一致" — the length comes from the policy, not the handbook.
    days: Annotated[int, Field(ge=1, le=365)] | None = None
    # "本合同生效日起30日内（含第30天）": day ``days`` itself is still inside.
    inclusive: bool = True
    waived_on_transfer: bool = False
    # A disease diagnosed inside the waiting period never qualifies.
    diagnosis_inside_disqualifies: bool = False


class ServiceValidityRule(RuleBase):
    kind: Literal["service_expired"]
    valid_for: Duration
    renews_with_policy: bool = True


class CoveredConditionRule(RuleBase):
    kind: Literal["condition_not_covered"]
    description: str
    disease_list: str | None = None
    accept_suspected: bool = False
    require_first_diagnosis: bool = False


class UnsuitableCondition(Strict):
    code: Slug
    label: str


class UnsuitableConditionRule(RuleBase):
    kind: Literal["condition_unsuitable"]
    conditions: Annotated[list[UnsuitableCondition], Field(min_length=1)]


class HospitalisationRule(RuleBase):
    kind: Literal["hospitalisation_required"]
    min_days: Annotated[int, Field(ge=1)] | None = None
    exclude_day_surgery: bool = False
    excluded_wards: list[Ward] = []
    exclude_pregnancy: bool = False
    # Treatment finished / discharge approved by the attending doctor.
    requires_discharge: bool = False


class TimeWindowRule(RuleBase):
    """The application (or the service) must fall between two offsets from an anchor."""

    kind: Literal["outside_window"]
    subject: Literal["application", "service"] = "application"
    anchor: EpisodeAnchor
    not_before: Offset | None = None
    not_after: Offset | None = None
    description: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> TimeWindowRule:
        if self.not_before is None and self.not_after is None:
            raise ValueError("时间窗至少要有一端")
        return self


class AgeRule(RuleBase):
    """Age in whole years at the moment of use; both bounds inclusive."""

    kind: Literal["age"]
    min_years: Annotated[int, Field(ge=0)] | None = None
    max_years: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _bounded(self) -> AgeRule:
        if self.min_years is None and self.max_years is None:
            raise ValueError("年龄规则至少要有上限或下限")
        if (
            self.min_years is not None
            and self.max_years is not None
            and self.min_years > self.max_years
        ):
            raise ValueError("年龄下限不能大于上限")
        return self


class RecipientRule(RuleBase):
    kind: Literal["recipient_not_allowed"]
    allowed: Annotated[list[Literal["insured", "family"]], Field(min_length=1)] = ["insured"]
    family_relations: list[Relation] = []
    # Family members must themselves be insured on the same family policy (平安共享).
    family_must_be_insured: bool = False


class NetworkRule(RuleBase):
    kind: Literal["not_in_network"]
    target: Literal["city", "hospital", "pharmacy", "nationwide"]
    # Where the place is checked: the hospital, the insured's home, the service address.
    location: Literal["hospital", "home", "service"] = "hospital"
    coverage_list: str | None = None
    scope: Literal["urban_districts", "whole_prefecture", "listed_counties"] | None = None
    min_hospital_grade: Literal["二级", "三级", "三甲"] | None = None
    public_only: bool = False
    mainland_only: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _list_needed(self) -> NetworkRule:
        if (
            self.target in ("hospital", "pharmacy")
            and not self.coverage_list
            and not (self.min_hospital_grade or self.public_only)
        ):
            raise ValueError("医院/药房网络规则必须指明名单或医院等级")
        return self


class SiteLeadTime(Strict):
    site: str
    min_lead: Duration


class LeadTimeRule(RuleBase):
    kind: Literal["lead_time"]
    min_lead: Duration
    before: Literal["service_start", "purchase", "admission", "visit"] = "service_start"
    per_site: list[SiteLeadTime] = []


class FilingDeadline(Strict):
    after: EpisodeAnchor
    within: Duration
    label: str = ""


class FilingDeadlineRule(RuleBase):
    kind: Literal["filing_deadline"]
    deadlines: Annotated[list[FilingDeadline], Field(min_length=1)]


class CitizenshipRule(RuleBase):
    kind: Literal["citizenship"]
    mainland_only: bool = True


Rule = Annotated[
    PolicyInForceRule
    | CoolingOffRule
    | WaitingPeriodRule
    | ServiceValidityRule
    | CoveredConditionRule
    | UnsuitableConditionRule
    | HospitalisationRule
    | TimeWindowRule
    | AgeRule
    | RecipientRule
    | NetworkRule
    | LeadTimeRule
    | FilingDeadlineRule
    | CitizenshipRule,
    Field(discriminator="kind"),
]

# Kinds a benefit may carry more than once (two windows, a city and a hospital list).
REPEATABLE_RULE_KINDS = frozenset({"outside_window", "not_in_network", "lead_time"})

# --- cancellation, SLA, documents, tiers ---------------------------------------------------


class AlternativeCancellation(Strict):
    """Another cancellation window the handbook prints elsewhere, kept so admins can switch."""

    free_before: Duration
    clause: str


class CancellationPolicy(Strict):
    # Cancelling at least this long before the scheduled start is free; later counts as used.
    free_before: Duration | None = None
    # Once the request reaches this event, any cancellation counts as used ("预约即使用").
    counted_as_used_from: RequestEvent | None = None
    # Changes allowed before the free window closes (MDT: at most 2).
    max_changes: Annotated[int, Field(ge=0)] | None = None
    no_show_counts_as_used: bool = True
    vendor_failure_returns_quota: bool = True
    force_majeure_keeps_quota: bool = True
    alternatives: list[AlternativeCancellation] = []
    clause: Annotated[str, Field(min_length=1)]


class SlaAlternative(Strict):
    """Membership of a milestone in a group of variants of one promise printed side by side
    (day/night call back, local/remote delivery, two sections that disagree). Only one
    variant of a group is measured: when the group's clocks start, ``choice`` keeps one and
    cancels the others. Variants are taken in the order ``sla`` lists them; the first is the
    ordinary (or daytime) one."""

    group: Slug
    choice: AlternativeChoice


class SlaMilestone(Strict):
    code: Slug
    label: str
    starts_on: RequestEvent
    # The progress event that fulfils the milestone (a later one fulfils it too). Required
    # unless ``tracked`` is false.
    met_by: ProgressEvent | None = None
    # False for a promise no event of the request reports (a document sent after completion):
    # the request does not carry it; ``note`` must say why.
    tracked: bool = True
    due: Duration
    # Lower bound of a printed range ("1-2个工作日"); ``due`` is the upper bound.
    due_from: Duration | None = None
    # "平均5-10个工作日" is a KPI averaged per vendor; the upper bound is the breach line.
    target: Literal["deadline", "average"] = "deadline"
    business_hours: BusinessHours | None = None
    alternative: SlaAlternative | None = None
    note: str = ""
    clause: str = ""

    @model_validator(mode="after")
    def _trackable(self) -> SlaMilestone:
        where = f"SLA 节点“{self.code}”"
        if not self.tracked:
            if self.met_by is not None:
                raise ValueError(f"{where}：不跟踪（tracked: false）的节点不能再写 met_by")
            if not self.note.strip():
                raise ValueError(f"{where}：不跟踪（tracked: false）须在 note 中说明原因")
            if self.alternative is not None:
                raise ValueError(f"{where}：不跟踪的节点不能作为备选（alternative）")
            return self
        if self.met_by is None:
            raise ValueError(
                f"{where}：未写明由哪个事件达成（met_by，可选：{'、'.join(PROGRESS_EVENTS)}）；"
                "没有事件能报告的节点须写 tracked: false 并在 note 中说明原因"
            )
        if self.starts_on in PROGRESS_EVENTS and PROGRESS_EVENTS.index(
            self.met_by
        ) <= PROGRESS_EVENTS.index(self.starts_on):
            raise ValueError(
                f"{where}：达成事件 {self.met_by} 不在起算事件 {self.starts_on} 之后，"
                "时钟开始时它已发生，节点无法按时达成"
            )
        return self


class FollowUp(Strict):
    """Check-ins (回访) the vendor promises after an event: ``count`` of them, one every
    ``every`` from the day of ``starts_on``, sent in the morning."""

    code: Slug
    label: str
    starts_on: FollowUpStart
    every: Duration
    count: Annotated[int, Field(ge=1, le=60)]
    # Stop at the policy's expiry ("保单有效期内每月回访").
    until_policy_expiry: bool = False
    clause: Annotated[str, Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _schedulable(cls, data: Any) -> Any:
        if isinstance(data, dict) and "starts_on" in data:
            allowed = get_args(FollowUpStart)
            if data["starts_on"] not in allowed:
                raise ValueError(
                    f"回访“{data.get('code', '')}”：起算事件“{data['starts_on']}”无法安排"
                    f"（回访只能自 {'、'.join(allowed)} 起算）"
                )
        return data

    @model_validator(mode="after")
    def _calendar_interval(self) -> FollowUp:
        if (
            self.every.clock != "natural"
            or self.every.unit not in ("days", "weeks", "months", "years")
            or self.every.amount != self.every.amount.to_integral_value()
        ):
            raise ValueError(f"回访“{self.code}”：间隔须为整数个自然日、周、月或年")
        return self


class DocumentRequirement(Strict):
    code: Slug
    label: str
    required: bool = True
    # When the document is needed, if not always ("代办时", "已做基因检测时").
    when: str = ""


class DistanceTier(Strict):
    """Fulfilment by one-way distance from home to hospital (出院交通 ≤200 km)."""

    kind: Literal["distance"]
    code: Slug
    label: str
    max_km: Decimal | None = None  # inclusive
    over_km: Decimal | None = None  # exclusive
    provides: str
    clause: str = ""


class DailyRateTier(Strict):
    """A daily subsidy by city (护工不可抗力补贴 300/250 元每天)."""

    kind: Literal["daily_rate"]
    code: Slug
    label: str
    cities: list[str] = []  # empty means every other city
    day_rate: Money
    max_days: Annotated[int, Field(ge=1)] | None = None
    clause: str = ""


class AdvanceFormulaTier(Strict):
    """(estimated total − medical insurance − deductible) × payout ratio, capped."""

    kind: Literal["advance_formula"]
    code: Slug
    label: str
    capped_by_sum_insured: bool = True
    excludes_first_deposit: bool = True
    top_ups_allowed: bool = True
    clause: str = ""


class AmountThresholdTier(Strict):
    """Purchases from ``min_amount`` need a review; without it the payout is reduced."""

    kind: Literal["amount_threshold"]
    code: Slug
    label: str
    min_amount: Money
    requires: str
    payout_ratio_without: Annotated[Decimal, Field(gt=0, le=1)]
    clause: str = ""


Tier = Annotated[
    DistanceTier | DailyRateTier | AdvanceFormulaTier | AmountThresholdTier,
    Field(discriminator="kind"),
]


class BenefitTerms(Strict):
    summary: Annotated[str, Field(min_length=1)]
    quota: Quota
    exclusive_choice: ExclusiveChoice | None = None
    prerequisites: list[Prerequisite] = []
    rules: list[Rule] = []
    cancellation: CancellationPolicy | None = None
    sla: list[SlaMilestone] = []
    service_hours: BusinessHours | None = None
    documents: list[DocumentRequirement] = []
    applicants: list[Person] = ["insured"]
    coverage_lists: list[str] = []
    tiers: list[Tier] = []
    follow_ups: list[FollowUp] = []
    notes: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> BenefitTerms:
        kinds = [rule.kind for rule in self.rules]
        repeated = {k for k in kinds if kinds.count(k) > 1 and k not in REPEATABLE_RULE_KINDS}
        if repeated:
            raise ValueError(f"规则重复：{'、'.join(sorted(repeated))}")
        for name, items in (
            ("SLA 节点", [m.code for m in self.sla]),
            ("资料", [d.code for d in self.documents]),
            ("分档", [t.code for t in self.tiers]),
            ("回访", [f.code for f in self.follow_ups]),
        ):
            if len(items) != len(set(items)):
                raise ValueError(f"{name}代码重复")
        _check_alternatives(self.sla)
        referenced = {
            rule.coverage_list
            for rule in self.rules
            if isinstance(rule, NetworkRule) and rule.coverage_list
        } | {
            rule.disease_list
            for rule in self.rules
            if isinstance(rule, CoveredConditionRule) and rule.disease_list
        }
        missing = referenced - set(self.coverage_lists)
        if missing:
            raise ValueError(
                f"规则引用的名单未在 coverage_lists 中声明：{'、'.join(sorted(missing))}"
            )
        if self.exclusive_choice and self.quota.is_unlimited:
            raise ValueError("多选一权益不能不限次")
        return self

    def reason_codes(self) -> list[str]:
        """Every reason code this benefit can refuse with, in DOMAIN.md order."""
        codes = {rule.kind for rule in self.rules}
        if not self.quota.is_unlimited or self.quota.limits:
            codes.add("quota_exhausted")
        if self.prerequisites:
            codes.add("prerequisite_missing")
        if self.exclusive_choice:
            codes.add("exclusive_choice_used")
        return [code for code in REASON_CODES if code in codes]


def sla_alternative_groups(sla: list[SlaMilestone]) -> dict[str, list[SlaMilestone]]:
    """The benefit's alternative groups, each with its variants in ``sla`` order."""
    groups: dict[str, list[SlaMilestone]] = {}
    for spec in sla:
        if spec.alternative is not None:
            groups.setdefault(spec.alternative.group, []).append(spec)
    return groups


def _check_alternatives(sla: list[SlaMilestone]) -> None:
    """Refuse a group the engine could never choose in: one variant only, variants that
    disagree on the choice or start on different events (their clocks never start
    together), or a time-of-day choice whose earlier variants have no hours of their own."""
    for group, specs in sla_alternative_groups(sla).items():
        where = f"SLA 备选组“{group}”"
        codes = "、".join(spec.code for spec in specs)
        if len(specs) < 2:
            raise ValueError(f"{where}只有一个节点（{codes}）：备选至少要有两个")
        if len({spec.alternative.choice for spec in specs if spec.alternative}) > 1:
            raise ValueError(f"{where}的节点（{codes}）选择方式（choice）不一致")
        if len({spec.starts_on for spec in specs}) > 1:
            raise ValueError(
                f"{where}的节点（{codes}）起算事件不同：只有同时起算的节点才能互为备选"
            )
        choice = specs[0].alternative.choice if specs[0].alternative else None
        if choice == "inside_hours":
            missing = [spec.code for spec in specs[:-1] if spec.business_hours is None]
            if missing:
                raise ValueError(
                    f"{where}按提交时段选择（inside_hours）："
                    f"{'、'.join(missing)} 须写明自己的 business_hours（适用时段）"
                )


# --- parsing with Chinese errors -----------------------------------------------------------


class TermsError(ValueError):
    """Terms that do not validate; ``messages`` are Chinese and name the field."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("；".join(messages))


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段",
    "literal_error": "取值不在允许范围内",
    "union_tag_invalid": "规则/分档类型不认识",
    "union_tag_not_found": "缺少类型字段 kind",
    "greater_than": "必须大于 0",
    "greater_than_equal": "不能为负数",
    "less_than_equal": "超出上限",
    "decimal_parsing": "不是有效数字",
    "int_parsing": "不是整数",
    "int_from_float": "不是整数",
    "bool_parsing": "不是“是/否”",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "model_type": "应为对象",
    "string_too_short": "不能为空",
    "too_short": "至少需要一项",
    "decimal_max_places": "小数位数过多",
}


def _format(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = _PYDANTIC_MESSAGES.get(error["type"])
    if error["type"] in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    if error["type"] == "literal_error":
        message = f"取值不在允许范围内（可选：{error['ctx']['expected']}）"
    message = message or error["msg"]
    return f"{location}：{message}" if location else message


def parse_terms(data: Any) -> BenefitTerms:
    """Validate raw terms (from YAML, JSON or the admin form) or raise ``TermsError``."""
    if isinstance(data, BenefitTerms):
        return data
    try:
        return BenefitTerms.model_validate(data)
    except ValidationError as exc:
        raise TermsError([_format(error) for error in exc.errors()]) from None


def terms_to_json(terms: BenefitTerms) -> dict[str, Any]:
    """The canonical JSON form stored on the model: defaults omitted, decimals as strings."""
    return terms.model_dump(mode="json", exclude_defaults=True)
