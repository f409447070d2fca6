"""What the eligibility engine reads and answers: the facts of one use (policy, recipient,
stay, diagnosis, what is left, what is known of the place and the history) and the verdict
(reasons, missing facts, what could not be checked, the tier).

Three outcomes: ``eligible``; ``ineligible`` (at least one reason: the answer would not change
with more facts); ``incomplete`` (no reason yet, but a fact the rules need is missing: the
caller asks for it, see ``Missing``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from benefits.calendar.workcalendar import WorkingCalendar
from benefits.eligibility.tiers import TierAnswer, TierFacts
from portal.kernel.clock import SHANGHAI


@dataclass(frozen=True)
class PolicyFacts:
    status: str
    signed_on: date
    effective_on: date
    expires_on: date
    transferred: bool = False
    waiting_days: int | None = None
    cooling_off_days: int = 15
    # What the insurer's core system records of the contract (None: not imported yet).
    sum_insured: Decimal | None = None
    standard_sum_insured: Decimal | None = None
    plan_level: str = ""
    riders: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PersonFacts:
    birth_date: date
    is_insured_member: bool  # the recipient is an insured member of this policy
    relation: str = (
        "self"  # to the insured who holds the benefit: self, spouse, child, parent, other
    )
    mainland_citizen: bool = True


@dataclass(frozen=True)
class StayFacts:
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False
    surgery: bool | None = None  # an operation during the stay (None: not said)


@dataclass(frozen=True)
class DocumentFacts:
    """What the use says of a document it relies on (a prescription): when it was issued, by
    a hospital of which grade."""

    issued_on: date | None = None
    issuer_grade: str | None = None


@dataclass(frozen=True)
class AmountFacts:
    """Amounts the use states, for the pre-checks (CNY)."""

    requested: Decimal | None = None  # what the use asks for (an advance)
    self_pay: Decimal | None = None
    deductible: Decimal | None = None
    sum_insured_left: Decimal | None = None


@dataclass(frozen=True)
class ScopeFacts:
    """What a use says it is for: its variant (mode or option), the item on the benefit's
    list, what it already uses beside it, the kind of request, and the places compared."""

    variant: str | None = None
    item: str | None = None
    also_using: frozenset[str] = frozenset()
    request_type: str | None = None
    # Region codes of the hospital's city and province, and of the recipient's 户口 / home.
    hospital_city: str | None = None
    hospital_province: str | None = None
    hukou_city: str | None = None
    hukou_province: str | None = None
    home_city: str | None = None
    home_province: str | None = None
    # Benefits of the policy this member has used (held, used or delivered) in any period.
    used_benefits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DiagnosisFacts:
    diagnosed_on: date
    confirmed: bool
    first_diagnosed_on: date | None = None
    in_lists: frozenset[str] = frozenset()  # codes of the disease lists naming the disease


@dataclass(frozen=True)
class Facts:
    at: datetime  # the moment of the application, aware
    policy: PolicyFacts
    recipient: PersonFacts
    planned_at: datetime | None = None
    site: str | None = None  # for per-site lead times (博鳌 clinics)
    stay: StayFacts | None = None
    diagnosis: DiagnosisFacts | None = None
    conditions: frozenset[str] = frozenset()  # unsuitable-condition codes that apply
    covered_by: dict[str, bool] = field(default_factory=dict)  # list code → place covered
    uncheckable: frozenset[str] = frozenset()  # list codes that cannot be consulted
    category: str | None = None  # the money-cap category of this use (省内 / 省外)
    first_use_on: date | None = None
    # The days this use asks for (a carer for 10 days), when the caller says.
    days_requested: Decimal | None = None
    # The hospital's grade (一级/二级/三级/三甲) and ownership, when the caller knows them: no
    # annex prints them, so a grade rule without them is reported unchecked, never passed.
    hospital_grade: str | None = None
    hospital_public: bool | None = None
    fares: tuple[tuple[str, str], ...] = ()  # (transport, class) of the fares claimed
    remaining: dict[str, Decimal] = field(default_factory=dict)  # pool label → what is left
    needed: dict[str, Decimal] = field(default_factory=dict)  # pool label → this use needs
    completed_benefits: frozenset[str] = frozenset()
    benefit_names: dict[str, str] = field(default_factory=dict)  # prerequisite code → name
    exclusive_groups_used: frozenset[str] = frozenset()
    # The last day of the window this policy year's first use opened (window benefits).
    window_ends_on: date | None = None
    tier: TierFacts = field(default_factory=TierFacts)
    scope: ScopeFacts = field(default_factory=ScopeFacts)
    amounts: AmountFacts = field(default_factory=AmountFacts)
    documents: dict[str, DocumentFacts] = field(default_factory=dict)
    # Working-clock rules (``needs_working_calendar``: filing deadlines, durations on the
    # working clock) need the calendar; without one they are reported unchecked.
    calendar: WorkingCalendar | None = None

    def __post_init__(self) -> None:
        # Days are Beijing days: a waiting period ends, a policy year turns and an age
        # changes at midnight in Asia/Shanghai, whatever zone the caller's clock is in (a
        # server's UTC ``now`` is still "yesterday" until 08:00 Beijing time).
        object.__setattr__(self, "at", self.at.astimezone(SHANGHAI))
        if self.planned_at is not None:
            object.__setattr__(self, "planned_at", self.planned_at.astimezone(SHANGHAI))


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    clause: str


# The facts a caller can be asked for, with what the form or the agent asks (Chinese).
MISSING_FACTS: dict[str, str] = {
    "planned_at": "请填写计划服务时间",
    "place": "请提供服务所在城市或医院",
    "hospitalisation": "请提供住院信息（医院、入院日期）",
    "discharged_on": "请提供出院日期",
    "diagnosis": "请提供诊断信息（疾病、确诊日期）",
    "category": "请选择费用类别",
    # Not a form field: the policy records the home; the insurer's staff update it.
    "home_city": "被服务人的常住城市未登记，请联系客服登记后再申请",
    "site": "请选择就诊医院及门诊类型",
    "variant": "请选择服务方式",
    "item": "请填写本次服务的项目（检查项目、药品或器械）",
    "surgery": "请说明本次住院是否手术",
    "hukou_city": "被服务人的户籍城市未登记，请联系客服登记后再申请",
}


@dataclass(frozen=True)
class Missing:
    """A fact the rule needs and the caller did not give: not a refusal."""

    fact: str
    message: str
    rule: str = ""  # the reason code of the rule that needs it

    @classmethod
    def of(cls, fact: str, detail: str = "") -> Missing:
        base = MISSING_FACTS[fact]
        return cls(fact, f"{base}，{detail}" if detail else base)


@dataclass(frozen=True)
class Unchecked:
    """The rule cannot be checked with what is known (a network list not imported yet, a
    hospital grade no annex prints): reported in ``Verdict.unchecked``, never passed."""


UNCHECKED = Unchecked()


@dataclass(frozen=True)
class PartExcluded:
    """A condition rules out one part of the service (中宏团体 重疾门诊: the 陪诊), not the
    service itself: reported in ``Verdict.limitations``, not a refusal."""

    message: str


@dataclass(frozen=True)
class AmountCheck:
    """An amount pre-check and the amounts it compared (CNY), whatever its answer."""

    measure: str
    amount: Decimal
    limit: Decimal
    passed: bool
    message: str


Outcome = Literal["eligible", "ineligible", "incomplete"]


@dataclass
class Verdict:
    reasons: list[Reason]
    unchecked: list[str]
    missing: list[Missing] = field(default_factory=list)
    next_eligible_on: date | None = None
    tier: TierAnswer | None = None
    # Parts of the service this use cannot have (the rest is still granted).
    limitations: list[Reason] = field(default_factory=list)
    # The amount pre-checks with the amounts they used, passed or not.
    amount_checks: list[AmountCheck] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.reasons:
            return "ineligible"
        return "incomplete" if self.missing else "eligible"

    @property
    def eligible(self) -> bool:
        return self.outcome == "eligible"
