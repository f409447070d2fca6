"""The typed terms of a benefit: quota, rules, cancellation, SLA, documents, tiers.

A benefit's terms are data (stored as JSON on ``Benefit.terms``) validated by these pydantic
models, so that a new insurer's handbook means new data, not new code. Every rule kind maps
to exactly one public reason code (DOMAIN.md §3); three reason codes (``quota_exhausted``,
``prerequisite_missing``, ``exclusive_choice_used``) are derived from the quota, the
prerequisites and the exclusive-choice group rather than listed as rules.

The parts have a module each in ``benefits.terms``: ``vocabulary`` (reason codes, units,
events), ``timing`` (durations, offsets, business hours), ``quota``, ``rules``,
``cancellation``, ``sla``, ``follow_ups`` and ``fulfilment`` (documents, tiers); this module
puts them together as ``BenefitTerms`` and parses raw terms (``parse_terms``,
``terms_to_json``, ``TermsError``).

Validation messages are Chinese because admins read them in the admin form and in the
output of ``load_catalogue``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, model_validator

from benefits.terms.cancellation import CancellationPolicy
from benefits.terms.enforcement import unevaluated_settings
from benefits.terms.follow_ups import FollowUp
from benefits.terms.fulfilment import CoverageModeTier, DocumentRequirement, Tier
from benefits.terms.quota import ExclusiveChoice, Quota
from benefits.terms.reviews import ReviewGate
from benefits.terms.rules import (
    REPEATABLE_RULE_KINDS,
    AnyPrerequisite,
    CoveredConditionRule,
    ItemListRule,
    NetworkRule,
    Prerequisite,
    Rule,
)
from benefits.terms.sla import SlaMilestone, check_alternatives
from benefits.terms.timing import BusinessHours
from benefits.terms.vocabulary import REASON_CODES, Person, Slug, Strict


class Variant(Strict):
    """A mode of the service the use chooses (线上/线下, 普通门诊/专家门诊) that rules can be
    scoped to (``only_for``)."""

    code: Slug
    label: str


def _information_only(note: str) -> str:
    """A note is information for people (fee scope, a reading, a disclaimer) and starts
    "说明"; a rule that changes a decision is data the engine evaluates, never a note."""
    if not note.startswith("说明"):
        raise ValueError(
            "备注只写给人看的说明，须以“说明：”开头；会改变判定的规则须写成规则数据"
            f"（{note[:20]}…）"
        )
    return note


InformationNote = Annotated[str, AfterValidator(_information_only)]


class BenefitTerms(Strict):
    summary: Annotated[str, Field(min_length=1)]
    quota: Quota
    exclusive_choice: ExclusiveChoice | None = None
    prerequisites: list[Prerequisite] = []
    # At least one of several benefits used first (中宏 陪诊: a green-channel service).
    prerequisite_any: list[AnyPrerequisite] = []
    # The modes a use chooses between; rules scoped with ``only_for`` name these or an
    # exclusive-choice option.
    variants: list[Variant] = []
    # The variant of a use that names none (平安 药品服务: the drug service itself, not its
    # 援助用药 sub-service); empty: a scoped rule asks for the variant.
    default_variant: str = ""
    # Decisions taken outside the request before a step of it (hospital, doctor, insurer).
    reviews: list[ReviewGate] = []
    # What the service hands over (《居家康护指导书》): a request counts as delivered, for the
    # benefits that need this one first, only once the vendor has attached it.
    deliverable: str = ""
    rules: list[Rule] = []
    cancellation: CancellationPolicy | None = None
    sla: list[SlaMilestone] = []
    service_hours: BusinessHours | None = None
    documents: list[DocumentRequirement] = []
    applicants: list[Person] = ["insured"]
    coverage_lists: list[str] = []
    tiers: list[Tier] = []
    follow_ups: list[FollowUp] = []
    notes: list[InformationNote] = []

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
        check_alternatives(self.sla)
        self._check_scopes()
        referenced = (
            {
                rule.coverage_list
                for rule in self.rules
                if isinstance(rule, NetworkRule) and rule.coverage_list
            }
            | {
                rule.disease_list
                for rule in self.rules
                if isinstance(rule, CoveredConditionRule) and rule.disease_list
            }
            | {tier.coverage_list for tier in self.tiers if isinstance(tier, CoverageModeTier)}
            | {
                rule.coverage_list
                for rule in self.rules
                if isinstance(rule, ItemListRule) and rule.coverage_list
            }
        )
        missing = referenced - set(self.coverage_lists)
        if missing:
            raise ValueError(
                f"规则引用的名单未在 coverage_lists 中声明：{'、'.join(sorted(missing))}"
            )
        if self.exclusive_choice and self.quota.is_unlimited:
            raise ValueError("多选一权益不能不限次")
        if self.exclusive_choice and self.exclusive_choice.period != self.quota.period:
            # What was chosen is read from the quota's pools, which follow the quota's period.
            raise ValueError("exclusive_choice.period：多选一的期间须与 quota.period 一致")
        unevaluated = unevaluated_settings(self)
        if unevaluated:
            raise ValueError("；".join(unevaluated))
        return self

    def variant_codes(self) -> dict[str, str]:
        """The variants a use may name (modes, then exclusive-choice options): code → label."""
        codes = {v.code: v.label for v in self.variants}
        if self.exclusive_choice:
            codes |= {o.code: o.label for o in self.exclusive_choice.options}
        return codes

    def _check_scopes(self) -> None:
        known = self.variant_codes()
        for index, rule in enumerate(self.rules):
            unknown = [code for code in rule.only_for if code not in known]
            if unknown:
                raise ValueError(
                    f"rules.{index}.only_for：“{'、'.join(unknown)}”不是本权益的服务方式"
                    "（variants）或多选一选项"
                )
        codes = [v.code for v in self.variants]
        if len(codes) != len(set(codes)):
            raise ValueError("服务方式代码重复")
        if self.default_variant and self.default_variant not in known:
            raise ValueError(f"default_variant：“{self.default_variant}”不是本权益的服务方式")
        milestones = {m.code for m in self.sla}
        gates = [g.code for g in self.reviews]
        if len(gates) != len(set(gates)):
            raise ValueError("审核节点代码重复")
        for gate in self.reviews:
            if gate.sla and gate.sla not in milestones:
                raise ValueError(f"reviews.{gate.code}.sla：时效节点“{gate.sla}”不存在")

    def reason_codes(self) -> list[str]:
        """Every reason code this benefit can refuse with, in DOMAIN.md order."""
        codes: set[str] = {rule.kind for rule in self.rules}
        if not self.quota.is_unlimited or self.quota.limits:
            codes.add("quota_exhausted")
        if self.prerequisites or self.prerequisite_any:
            codes.add("prerequisite_missing")
        if self.exclusive_choice:
            codes.add("exclusive_choice_used")
        return [code for code in REASON_CODES if code in codes]


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
