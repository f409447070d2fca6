"""Plain-Chinese descriptions of benefit terms, for admins (and later policyholders)."""

from __future__ import annotations

from decimal import Decimal

from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.cancellation import CancellationPolicy
from benefits.terms.follow_ups import FollowUp
from benefits.terms.fulfilment import (
    AdvanceFormulaTier,
    AmountThresholdTier,
    DailyRateTier,
    DistanceTier,
)
from benefits.terms.quota import Quota
from benefits.terms.rules import (
    AgeRule,
    AmountCheckRule,
    AwayFromHomeRule,
    CitizenshipRule,
    CoolingOffRule,
    CoveredConditionRule,
    DocumentRule,
    FareClassRule,
    FilingDeadlineRule,
    HospitalisationRule,
    ItemListRule,
    LeadTimeRule,
    MutualExclusionRule,
    NetworkRule,
    OutOfScopeRule,
    PolicyInForceRule,
    RecipientRule,
    RiderRule,
    ServiceHoursRule,
    ServiceValidityRule,
    SumInsuredRule,
    TimeWindowRule,
    UnsuitableConditionRule,
    WaitingPeriodRule,
)
from benefits.terms.sla import SlaMilestone
from benefits.terms.timing import BusinessHours, Duration, Offset

UNIT_NAMES = {
    "minutes": "分钟",
    "hours": "小时",
    "days": "天",
    "weeks": "周",
    "months": "个月",
    "years": "年",
}
WORKING_UNIT_NAMES = {"minutes": "工作分钟", "hours": "个工作小时", "days": "个工作日"}
PERIOD_NAMES = {
    "policy_year": "每保单年度",
    "whole_policy": "整个保单期间",
    "per_hospitalisation": "每次住院",
    "window_after_start": "服务启动后",
    "window_month": "其中每月",
}
SHARING_NAMES = {
    "insured": "限被保险人本人",
    "insured_and_family": "被保险人及家属共用",
    "family_pool": "家庭保单内直系亲属共享",
}
EVENT_NAMES = {
    "submitted": "提交申请",
    "records_complete": "资料收集完整",
    "approved": "审核通过",
    "assigned": "派单给服务商",
    "plan_confirmed": "确认就诊方案",
    "scheduled": "预约成功",
    "in_service": "服务开始",
    "completed": "服务完成",
    "discharge_notified": "通知出院日期",
}
ANCHOR_NAMES = {
    "admission": "入院",
    "discharge": "出院",
    "visit": "就诊",
    "diagnosis": "确诊",
    "service_start": "服务开始",
    "first_use": "首次使用",
    "purchase": "购药",
    "policy_effective": "保单生效",
}
DAYS_NAMES = {
    "working_days": "工作日",
    "every_day": "每天",
    "every_day_except_holidays": "每天（法定节假日除外）",
}
PERSON_NAMES = {
    "insured": "被保险人",
    "holder": "投保人",
    "family": "家属",
    "guardian": "监护人",
    "proxy": "授权代办人",
}
WARD_NAMES = {
    "icu": "ICU",
    "vip": "VIP病房",
    "special_needs": "特需病房",
    "rehab_sanatorium": "康复疗养病房",
}
SCOPE_NAMES = {
    "urban_districts": "仅市区",
    "whole_prefecture": "全市",
    "listed_counties": "市区及所列区县",
}


def number(value: Decimal | int) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def duration(value: Duration) -> str:
    if value.clock == "working":
        return f"{number(value.amount)}{WORKING_UNIT_NAMES[value.unit]}"
    return f"{number(value.amount)}{UNIT_NAMES[value.unit]}"


def offset(anchor: str, value: Offset) -> str:
    side = "前" if value.direction == "before" else "后"
    return f"{ANCHOR_NAMES[anchor]}{side}{duration(value)}"


def hours(value: BusinessHours) -> str:
    if value.start == "00:00" and value.end == "24:00":
        return f"{DAYS_NAMES[value.days]} 24小时"
    return f"{DAYS_NAMES[value.days]} {value.start}–{value.end}"


def quota(value: Quota) -> str:
    if value.period == "window_after_start" and value.window:
        period = f"服务启动后{duration(value.window)}内"
    else:
        period = PERIOD_NAMES[value.period]
    if value.unit == "unlimited":
        text = f"{period}不限次数" if value.period == "window_after_start" else "不限次数"
    elif value.category_caps:
        caps = "，".join(f"{cap.label}{number(cap.amount)}元" for cap in value.category_caps)
        text = f"{period}最高{caps}"
    else:
        unit = {"times": "次", "days": "天", "cny": "元"}[value.unit]
        text = f"{period}{number(value.amount or 0)}{unit}"
    parts = [text, SHARING_NAMES[value.sharing]]
    for limit in value.limits:
        label = {"requests": "申请不超过", "days": "累计不超过", "consecutive_days": "连续不超过"}
        unit = "次" if limit.kind == "requests" else "天"
        parts.append(f"{PERIOD_NAMES[limit.period]}{label[limit.kind]}{number(limit.amount)}{unit}")
    if value.max_per_use:
        parts.append(f"每次最长{duration(value.max_per_use)}")
    if value.lapses_once_started:
        parts.append("一经启动，剩余部分作废")
    return "；".join(parts)


def _waiting(r: WaitingPeriodRule) -> str:
    if r.days is None:
        text = "等待期（与保险合同一致）后方可使用"
    else:
        inclusive = f"（含第{r.days}日）" if r.inclusive else ""
        text = f"等待期{r.days}日{inclusive}后方可使用"
    if r.measured_on == "admission":
        text = text.replace("后方可使用", "后发生的住院方可使用")
    if r.waived_on_transfer:
        text += "；转保无等待期"
    if r.diagnosis_inside_disqualifies:
        text += "；等待期内确诊的疾病不可使用"
    return text


def _condition(r: CoveredConditionRule) -> str:
    extra = []
    if r.accept_suspected:
        extra.append("疑似亦可")
    if r.require_first_diagnosis:
        extra.append("须为初次确诊")
    return f"适用疾病：{r.description}" + (f"（{'，'.join(extra)}）" if extra else "")


def _hospitalisation(r: HospitalisationRule) -> str:
    parts = ["须住院"]
    if r.min_days:
        parts.append(f"住院不少于{r.min_days}天")
    if r.exclude_day_surgery:
        parts.append("日间手术除外")
    if r.excluded_wards:
        parts.append("不含" + "、".join(WARD_NAMES[w] for w in r.excluded_wards))
    if r.exclude_pregnancy:
        parts.append("妊娠相关住院除外")
    if r.requires_discharge:
        parts.append("须完成治疗、符合出院条件")
    return "，".join(parts)


def _window(r: TimeWindowRule) -> str:
    who = "申请" if r.subject == "application" else "服务"
    bounds = []
    if r.not_before:
        bounds.append(f"不早于{offset(r.anchor, r.not_before)}")
    if r.not_after:
        bounds.append(f"不晚于{offset(r.anchor, r.not_after)}")
    return f"{who}时间：{'，'.join(bounds)}" + (f"（{r.description}）" if r.description else "")


def _age(r: AgeRule) -> str:
    if r.min_years is not None and r.max_years is not None:
        return f"年龄{r.min_years}–{r.max_years}周岁"
    if r.max_years is not None:
        return f"年龄不超过{r.max_years}周岁（含）"
    return f"年龄不低于{r.min_years}周岁"


def _recipient(r: RecipientRule) -> str:
    text = f"服务对象：{'、'.join(PERSON_NAMES[p] for p in r.allowed)}"
    if r.family_must_be_insured:
        text += "（家属须为同一家庭保单的被保险人）"
    return text


def _network(r: NetworkRule) -> str:
    parts = [r.description or f"须在服务网络内（{r.target}）"]
    if r.scope:
        parts.append(SCOPE_NAMES[r.scope])
    if r.min_hospital_grade:
        parts.append(f"{r.min_hospital_grade}及以上{'公立' if r.public_only else ''}医院")
    if r.coverage_list:
        parts.append(f"名单 {r.coverage_list}")
    return "，".join(parts)


LEAD_TIME_BEFORE = {
    "service_start": "服务开始",
    "purchase": "购药",
    "admission": "入院",
    "visit": "就诊",
}


def _lead_time(r: LeadTimeRule) -> str:
    text = f"须在{LEAD_TIME_BEFORE[r.before]}前至少{duration(r.min_lead)}申请"
    if r.per_site:
        text += "；" + "，".join(f"{s.site}{duration(s.min_lead)}" for s in r.per_site)
    return text


def rule(value: object) -> str:
    match value:
        case PolicyInForceRule():
            return "保单须有效"
        case CoolingOffRule(days=days):
            return f"须过犹豫期（{days}日）" if days else "须过犹豫期（以保险合同为准）"
        case WaitingPeriodRule() as r:
            return _waiting(r)
        case ServiceValidityRule() as r:
            renew = "，续保自动延续" if r.renews_with_policy else ""
            return f"服务有效期{duration(r.valid_for)}{renew}"
        case CoveredConditionRule() as r:
            return _condition(r)
        case UnsuitableConditionRule() as r:
            return "不适用：" + "、".join(c.label for c in r.conditions)
        case HospitalisationRule() as r:
            return _hospitalisation(r)
        case TimeWindowRule() as r:
            return _window(r)
        case AgeRule() as r:
            return _age(r)
        case RecipientRule() as r:
            return _recipient(r)
        case NetworkRule() as r:
            return _network(r)
        case LeadTimeRule() as r:
            return _lead_time(r)
        case FilingDeadlineRule() as r:
            return "申请时限：" + "，".join(
                f"{ANCHOR_NAMES[d.after]}后{duration(d.within)}内" for d in r.deadlines
            )
        case CitizenshipRule():
            return "仅限中国大陆居民"
        case FareClassRule() as r:
            return "；".join(f"{f.transport}仅限{'、'.join(f.allowed)}" for f in r.fares)
        case ServiceHoursRule() as r:
            what = "申请" if r.subject == "application" else "服务时间"
            return f"{what}须在{r.description or hours(r.hours)}"
    return _policy_rule(value)


def _policy_rule(value: object) -> str:
    """The rule kinds of issue 14, in plain Chinese; a rule scoped to variants says so."""
    text = str(value)
    match value:
        case SumInsuredRule() as r:
            parts = [r.description] if r.description else []
            if r.min_sum_insured is not None:
                parts.append(f"保额不低于{number(r.min_sum_insured)}元")
            if r.plan_levels:
                parts.append("限" + "、".join(r.plan_levels))
            text = "保额/计划须符合标准：" + "，".join(parts or ["以保单为准"])
        case RiderRule(label=label):
            text = f"须投保{label}"
        case ItemListRule() as r:
            listed = "、".join(i.label for i in r.items) or (r.coverage_list or "")
            text = f"{r.label}须在名单内：{listed}"
        case MutualExclusionRule() as r:
            text = "不可与" + "、".join(e.label for e in r.excludes) + "同时使用"
        case AwayFromHomeRule() as r:
            text = r.description or "须为异地就医"
        case AmountCheckRule() as r:
            text = r.description or "金额前置审核"
        case DocumentRule() as r:
            text = f"{r.label}须在有效期内" + (
                f"（{duration(r.valid_for)}）" if r.valid_for else ""
            )
        case OutOfScopeRule() as r:
            text = "不含：" + "、".join(e.label for e in r.excluded)
    only_for = getattr(value, "only_for", [])
    return f"{text}（仅适用于：{'、'.join(only_for)}）" if only_for else text


def cancellation(value: CancellationPolicy) -> list[str]:
    lines = []
    boundary = "（含）" if value.boundary == "late" else ""
    if value.free_before:
        window = duration(value.free_before)
        if value.late_counts_as_used_from:
            event = EVENT_NAMES[value.late_counts_as_used_from]
            lines.append(f"请在服务开始前{window}以上取消；未提前告知且已{event}的，视为已使用")
        else:
            lines.append(f"服务开始前{window}以内{boundary}取消，视为已使用")
    if value.counted_as_used_from:
        lines.append(f"{EVENT_NAMES[value.counted_as_used_from]}后取消，视为已使用")
    if value.change_notice:
        notice = duration(value.change_notice)
        if value.late_change_counts_as_used:
            lines.append(f"服务开始前{notice}以内{boundary}变更预约，视为已使用")
        else:
            lines.append(f"变更服务时间请提前{notice}通知；未能提前的，尽力安排，不扣次数")
    if value.max_changes is not None:
        if value.beyond_max_changes == "refused":
            lines.append(
                f"最多变更{value.max_changes}次，超出不予受理"
                if value.max_changes
                else "预约确认后不支持变更"
            )
        else:
            lines.append(f"最多取消或变更{value.max_changes}次，超出视为已使用")
    if value.no_show_counts_as_used:
        lines.append("爽约视为已使用")
    if value.vendor_failure_returns_quota:
        lines.append("服务商未能提供服务的，返还权益")
    if value.force_majeure_keeps_quota:
        lines.append("不可抗力导致未能提供服务的，保留权益")
    if not value.hospital_reason_keeps_quota:
        lines.append("医院原因（如专家临时停诊）未能按约定提供服务的，视同客户取消")
    for alt in value.alternatives:
        lines.append(f"另见：服务开始前{duration(alt.free_before)}（{alt.clause}）")
    return lines


def milestone(value: SlaMilestone) -> str:
    if value.due is None:  # same_day
        text = f"{value.label}：{EVENT_NAMES[value.starts_on]}当日内"
    else:
        span = duration(value.due)
        if value.due_from:
            span = f"{number(value.due_from.amount)}–{span}"
        kind = {"average": "平均", "fastest": "最快"}.get(value.target, "")
        text = f"{value.label}：{EVENT_NAMES[value.starts_on]}后{kind}{span}内"
    if value.paused_by:
        text += "（" + "、".join(PAUSE_NAMES[e] for e in value.paused_by) + "期间暂停计时）"
    if value.business_hours:
        text += f"（{hours(value.business_hours)}）"
    return text


PAUSE_NAMES = {"records_requested": "等待客户补充资料", "investigating": "调查"}


def follow_up(value: FollowUp) -> str:
    until = "，保单有效期内为限" if value.until_policy_expiry else ""
    return (
        f"{value.label}：{EVENT_NAMES[value.starts_on]}后每{duration(value.every)}一次，"
        f"共{value.count}次{until}"
    )


def tier(value: object) -> str:
    match value:
        case DistanceTier() as t:
            if t.max_km is not None:
                return f"{t.label}：距离{number(t.max_km)}公里以内（含）— {t.provides}"
            return f"{t.label}：距离超过{number(t.over_km or 0)}公里 — {t.provides}"
        case DailyRateTier() as t:
            where = "、".join(t.cities) if t.cities else "其他城市"
            days = f"，最多{t.max_days}天" if t.max_days else ""
            return f"{t.label}：{where}每天{number(t.day_rate)}元{days}"
        case AdvanceFormulaTier() as t:
            return f"{t.label}：（预估总费用−医保支付−免赔额）×赔付比例，不超过保额"
        case AmountThresholdTier() as t:
            return (
                f"{t.label}：单次{number(t.min_amount)}元及以上须{t.requires}，"
                f"否则按{number(t.payout_ratio_without * 100)}%赔付"
            )
    return str(value)


def describe_terms(terms: BenefitTerms) -> list[tuple[str, list[str]]]:
    """Sections of plain-Chinese lines, in the order an admin reads a clause."""
    sections: list[tuple[str, list[str]]] = [
        ("概要", [terms.summary]),
        ("次数", [quota(terms.quota)]),
    ]
    if terms.exclusive_choice:
        choice = terms.exclusive_choice
        options = "；".join(f"{o.label}{number(o.amount)}{o.unit_label}" for o in choice.options)
        sections.append(
            (
                "多选一",
                [f"{PERIOD_NAMES[choice.period]}{len(choice.options)}选{choice.choose}：{options}"],
            )
        )
    if terms.prerequisites:
        sections.append(("前置条件", [f"须先完成 {p.benefit}" for p in terms.prerequisites]))
    if terms.rules:
        sections.append(("使用条件", [rule(r) for r in terms.rules]))
    if terms.cancellation:
        sections.append(("取消规则", cancellation(terms.cancellation)))
    if terms.sla:
        sections.append(("服务时效", [milestone(m) for m in terms.sla]))
    if terms.service_hours:
        sections.append(("服务时间", [hours(terms.service_hours)]))
    if terms.documents:
        sections.append(
            (
                "所需资料",
                [
                    d.label
                    + ("" if d.required else "（如有）")
                    + (f"（{d.when}）" if d.when else "")
                    for d in terms.documents
                ],
            )
        )
    sections.append(("申请人", ["、".join(PERSON_NAMES[p] for p in terms.applicants)]))
    if terms.tiers:
        sections.append(("服务分档", [tier(t) for t in terms.tiers]))
    if terms.follow_ups:
        sections.append(("回访", [follow_up(f) for f in terms.follow_ups]))
    if terms.notes:
        sections.append(("备注", list(terms.notes)))
    return sections
