"""Eligibility rules, one rule kind per public reason code (DOMAIN.md §3), and the
prerequisites (another benefit that must come first)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from benefits.terms.timing import BusinessHours, Duration, Offset
from benefits.terms.vocabulary import CODE, EpisodeAnchor, Relation, Slug, Strict, Ward


class Prerequisite(Strict):
    """Another benefit that must have been delivered first, in any period of the policy
    (上门康护 needs 康护指导书): completed, with its ``deliverable`` if it has one — an
    approval or a booking is not enough."""

    benefit: str
    clause: str = ""

    @field_validator("benefit")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"前置权益代码“{value}”格式不正确")
        return value


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
    # What must fall after the waiting period: the application (the default), or the
    # admission of the stay the service is for (平安 住院陪护 6.5.2 "在主险等待期后……发生住院
    # 可申请": a stay that began inside it does not qualify, whenever the request is made).
    measured_on: Literal["application", "admission"] = "application"


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
    # The part of the service the condition rules out (中宏团体 重疾门诊 "陪诊不支持…住院病人":
    # the 陪诊, not the outpatient booking); empty: the whole service.
    part: str = ""


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


class ServiceHoursRule(RuleBase):
    """The application, or the booked service time, must fall inside ``hours`` (平安 陪诊
    "就医时间需为非法定节假日的白天时段"; 安盛 海南博鳌 "咨询/申请 7x24 小时"). Unlike
    ``service_hours``, which is when staff work and the SLA clocks run, this decides whether
    a request may be made or booked for that moment."""

    kind: Literal["outside_service_hours"]
    subject: Literal["application", "service"] = "service"
    hours: BusinessHours
    description: str = ""


class FareClass(Strict):
    transport: Annotated[str, Field(min_length=1)]  # as printed: 火车（高铁/动车）, 飞机
    allowed: Annotated[list[str], Field(min_length=1)]  # 二等座; 经济舱


class FareClassRule(RuleBase):
    """A subsidy pays a fare only in the classes listed for its transport (中宏 异地就医补贴
    "高铁/动车仅限二等座""飞机仅限经济舱"); other transports (fuel, taxi) have no class."""

    kind: Literal["fare_class_not_covered"]
    fares: Annotated[list[FareClass], Field(min_length=1)]


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
    | CitizenshipRule
    | ServiceHoursRule
    | FareClassRule,
    Field(discriminator="kind"),
]

# Kinds a benefit may carry more than once (two windows, a city and a hospital list).
REPEATABLE_RULE_KINDS = frozenset({"outside_window", "not_in_network", "lead_time"})
