"""Eligibility rules, one rule kind per public reason code (DOMAIN.md §3), and the
prerequisites (another benefit that must come first)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from benefits.terms.timing import BusinessHours, Duration, Offset
from benefits.terms.vocabulary import (
    CODE,
    EpisodeAnchor,
    Money,
    Relation,
    Slug,
    Strict,
    Ward,
)


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
    # The variants (a mode of the service, an option of an exclusive choice) the rule applies
    # to; empty: every use. 平安 MDT's offline hospital list binds the offline mode only;
    # 中宏团体 儿童齿科's clinic networks differ per option. The use says its variant
    # (``variant``); a scoped rule asks for it when it is not given.
    only_for: list[Slug] = []


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
    # "住院手术": the stay must include an operation (the use says ``surgery``).
    requires_surgery: bool = False


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


class SumInsuredRule(RuleBase):
    """The policy must keep its sum insured (保额) and plan level: 中宏 "降低保额无法达到相应
    标准" ends the services. ``min_sum_insured`` when the handbook prints the figure; else
    ``at_least_standard``: the standard the policy's plan sets (recorded on the policy as
    ``standard_sum_insured``, from the insurer's core system). ``plan_levels``: the plan
    levels (计划) that carry the service."""

    kind: Literal["sum_insured_below"]
    min_sum_insured: Money | None = None
    at_least_standard: bool = False
    plan_levels: list[str] = []
    description: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> SumInsuredRule:
        if self.min_sum_insured is None and not self.at_least_standard and not self.plan_levels:
            raise ValueError("保额规则须指明最低保额、保额标准或计划档次")
        return self


class RiderRule(RuleBase):
    """The service comes with a rider (附加险) the policy must carry: 安盛 器械直付 "如投保
    特定医疗器械费用医疗保险". ``rider`` is the code the policy import records."""

    kind: Literal["rider_missing"]
    rider: Slug
    label: str


class ListItem(Strict):
    """An item the service covers (a drug, a device, an examination), with its own
    conditions: 安盛 爱普盾 for 22 years and over; 膝/髋关节 not for a cancer patient."""

    code: Slug
    label: str
    min_age: Annotated[int, Field(ge=0)] | None = None
    max_age: Annotated[int, Field(ge=0)] | None = None
    # Condition codes (as given in ``conditions`` of the use) that rule the item out.
    excluded_conditions: list[Slug] = []
    # Other names it goes by in prescriptions (通用名 / 商品名).
    aliases: list[str] = []
    note: str = ""


class ItemListRule(RuleBase):
    """The item the use is for (``item``) must be on the benefit's list, and meet the item's
    own conditions: 中宏 检查加急 only 9 examinations; 安盛 the 5 devices. A list too long to
    print in the terms (附表2 ~100 drugs) names its annex in ``coverage_list`` instead; until
    that list is imported the rule is unchecked."""

    kind: Literal["item_not_on_list"]
    label: str  # what the items are: 检查项目, 医疗器械, 药品
    items: list[ListItem] = []
    coverage_list: str | None = None

    @model_validator(mode="after")
    def _listed(self) -> ItemListRule:
        if not self.items and not self.coverage_list:
            raise ValueError("项目名单规则须列出项目或引用名单")
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError("项目代码重复")
        return self


class ExclusiveWith(Strict):
    code: Slug
    label: str


class MutualExclusionRule(RuleBase):
    """Two services that cannot both be used for one case: 平安 垫付 "和预赔不可同时使用".
    The use says what else it already uses (``also_using``)."""

    kind: Literal["mutually_exclusive"]
    excludes: Annotated[list[ExclusiveWith], Field(min_length=1)]


class AwayFromHomeRule(RuleBase):
    """The hospital must be in another place than the recipient's registered home: 中宏
    异地就医 "就诊本人户口所在地与就诊医院所在地为不同城市"."""

    kind: Literal["not_away_from_home"]
    home: Literal["hukou", "residence"] = "hukou"
    level: Literal["city", "province"] = "city"
    description: str = ""


class AmountCheckRule(RuleBase):
    """An amount pre-check, answered with the amount it used. ``self_pay_over_deductible``:
    the self-paid amount must exceed the deductible (平安 住院垫付 "自费金额需超过免赔额");
    ``within_sum_insured_left``: the amount asked must not exceed the sum insured left (中宏
    垫付 "本保单年度保额已赔满" does not qualify)."""

    kind: Literal["amount_check"]
    measure: Literal["self_pay_over_deductible", "within_sum_insured_left"]
    description: str = ""


class DocumentRule(RuleBase):
    """A document the use relies on must be valid: a prescription used within ``valid_for``
    of its date (平安 《处方管理办法》 3 天), issued by a hospital of ``min_issuer_grade``;
    ``title`` is what invoices must be made out to (shown; checked by the vendor)."""

    kind: Literal["document_invalid"]
    document: Slug
    label: str
    valid_for: Duration | None = None
    min_issuer_grade: Literal["二级", "三级", "三甲"] | None = None
    title: str = ""

    @model_validator(mode="after")
    def _checked(self) -> DocumentRule:
        if self.valid_for is None and self.min_issuer_grade is None:
            raise ValueError("资料规则须指明有效期或出具医院等级")
        valid = self.valid_for
        # Counted in whole natural days from the date on the document (a prescription's
        # date has no hour): days or weeks only.
        if valid is not None and (
            valid.unit not in ("days", "weeks")
            or valid.clock != "natural"
            or valid.amount != int(valid.amount)
        ):
            raise ValueError("资料有效期须为整数的自然日或周（valid_for）")
        return self


class RequestType(Strict):
    code: Slug
    label: str


class OutOfScopeRule(RuleBase):
    """Requests the service does not take: 中宏团体 住院安排 "加床、转床、转病房、转科室、换医生、
    转院不在服务范围内". The use says what it asks for (``request_type``); none: the
    ordinary request."""

    kind: Literal["out_of_scope"]
    excluded: Annotated[list[RequestType], Field(min_length=1)]


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
    | FareClassRule
    | SumInsuredRule
    | RiderRule
    | ItemListRule
    | MutualExclusionRule
    | AwayFromHomeRule
    | AmountCheckRule
    | DocumentRule
    | OutOfScopeRule,
    Field(discriminator="kind"),
]

# Kinds a benefit may carry more than once (two windows, a city and a hospital list).
REPEATABLE_RULE_KINDS = frozenset(
    {
        "outside_window",
        "not_in_network",
        "lead_time",
        "rider_missing",
        "document_invalid",
        "item_not_on_list",
        "amount_check",
    }
)


class AnyPrerequisite(Strict):
    """At least one of several benefits must have been used on the policy (held, used or
    delivered, any period): 中宏 陪诊 and 异地就医补贴 need *a* green-channel service."""

    any_of: Annotated[list[str], Field(min_length=2)]
    label: str  # what the benefits are, for the message: 绿色通道服务
    clause: Annotated[str, Field(min_length=1)]

    def any_of_used(self, used: frozenset[str]) -> bool:
        return any(code in used for code in self.any_of)

    @field_validator("any_of")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not CODE.match(code):
                raise ValueError(f"前置权益代码“{code}”格式不正确")
        return value
