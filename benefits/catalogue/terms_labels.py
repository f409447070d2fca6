"""Chinese labels of the terms schema's names, for the terms form and its diff.

A glossary of names, not a form: the form is generated from the pydantic schema
(``benefits.catalogue.terms_form``), and a field added to the terms later appears there at
once under its own name until it gets a label here. Enumerated values take their labels from
``benefits.terms.display``, the same words the terms summary prints.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from benefits.terms import display

FIELD_LABELS: dict[str, Promise] = {
    "accept_suspected": _("接受疑似诊断"),
    "after": _("之后"),
    "allowed": _("允许"),
    "alternative": _("备选"),
    "alternatives": _("备选方案"),
    "amount": _("金额/数量"),
    "anchor": _("起算事件"),
    "applicants": _("可申请人"),
    "before": _("之前"),
    "benefit": _("权益"),
    "beyond_max_changes": _("超过变更次数后"),
    "boundary": _("临界时刻算作"),
    "business_hours": _("按服务时间计时"),
    "cancellation": _("取消规则"),
    "capped_by_sum_insured": _("以保额为上限"),
    "category": _("类别"),
    "category_caps": _("分类上限"),
    "change_notice": _("变更须提前"),
    "choice": _("选项"),
    "choose": _("可选数量"),
    "cities": _("城市"),
    "clause": _("条款原文"),
    "clock": _("计时方式"),
    "code": _("代码"),
    "conditions": _("情形"),
    "count": _("次数"),
    "counted_as_used_from": _("自此起取消视为已使用"),
    "coverage_list": _("覆盖名单"),
    "coverage_lists": _("引用的覆盖名单"),
    "day_rate": _("每日金额"),
    "days": _("天数/日期类型"),
    "deadlines": _("时限"),
    "deliverable": _("交付物"),
    "description": _("说明"),
    "diagnosis_inside_disqualifies": _("期内确诊即不符"),
    "direction": _("方向"),
    "discharge_change_returns_quota": _("出院日期变更退回次数"),
    "disease_list": _("疾病名单"),
    "documents": _("所需资料"),
    "due": _("时限"),
    "due_end_of_day": _("当日结束前"),
    "due_from": _("起算事件"),
    "end": _("结束"),
    "every": _("每"),
    "exclude_day_surgery": _("不含日间手术"),
    "exclude_pregnancy": _("不含妊娠"),
    "excluded_wards": _("不含病房"),
    "excludes_first_deposit": _("不含首笔押金"),
    "exclusive_choice": _("多选一"),
    "family_must_be_insured": _("家属须为被保险人"),
    "family_relations": _("家属关系"),
    "follow_ups": _("回访"),
    "force_majeure_keeps_quota": _("不可抗力保留次数"),
    "free_before": _("免费取消须提前"),
    "group": _("组"),
    "inclusive": _("含当日"),
    "kind": _("类型"),
    "label": _("名称"),
    "lapses_once_started": _("开始后即失效"),
    "late_change_counts_as_used": _("逾期变更视为已使用"),
    "late_counts_as_used_from": _("逾期取消自此起视为已使用"),
    "limits": _("限制"),
    "location": _("地点"),
    "mainland_only": _("仅限中国大陆"),
    "max_changes": _("最多变更次数"),
    "max_days": _("最多天数"),
    "max_km": _("最远公里数"),
    "max_per_use": _("每次上限"),
    "max_years": _("最大年龄"),
    "met_by": _("达成事件"),
    "min_amount": _("起始金额"),
    "min_days": _("最少天数"),
    "min_hospital_grade": _("最低医院等级"),
    "min_lead": _("最少提前"),
    "min_years": _("最小年龄"),
    "no_show_counts_as_used": _("爽约视为已使用"),
    "not_after": _("不晚于"),
    "not_before": _("不早于"),
    "note": _("说明"),
    "options": _("选项"),
    "over_km": _("超过公里数"),
    "part": _("部分"),
    "payout_ratio_without": _("未审核时赔付比例"),
    "per_site": _("按院区"),
    "period": _("期间"),
    "prerequisites": _("前置权益"),
    "provides": _("提供"),
    "public_only": _("仅公立医院"),
    "quota": _("次数与额度"),
    "renews_with_policy": _("随保单续期"),
    "require_first_diagnosis": _("须首次确诊"),
    "required": _("必需"),
    "requires": _("需要"),
    "requires_discharge": _("须已出院"),
    "rules": _("使用规则"),
    "scope": _("范围"),
    "service_hours": _("服务时间"),
    "sharing": _("共用方式"),
    "site": _("院区"),
    "sla": _("服务时效（SLA）"),
    "start": _("开始"),
    "starts_on": _("起始"),
    "subject": _("对象"),
    "summary": _("摘要"),
    "target": _("目标"),
    "tiers": _("分档"),
    "top_ups_allowed": _("可追加"),
    "tracked": _("跟踪"),
    "unit": _("单位"),
    "unit_label": _("单位名称"),
    "until_policy_expiry": _("至保单到期"),
    "valid_for": _("有效期"),
    "vendor_failure_returns_quota": _("服务商原因退回次数"),
    "waived_on_transfer": _("转院免除"),
    "when": _("时间"),
    "window": _("时间窗"),
    "within": _("期限内"),
}

# The kinds of rules, tiers and follow-ups: what an operator picks in a list of options.
KIND_LABELS: dict[str, Promise] = {
    "policy_not_in_force": _("保单有效"),
    "cooling_off": _("犹豫期"),
    "waiting_period": _("等待期"),
    "service_expired": _("服务有效期"),
    "condition_not_covered": _("保障疾病"),
    "condition_unsuitable": _("不适用情形"),
    "hospitalisation_required": _("须住院"),
    "outside_window": _("时间窗"),
    "age": _("年龄"),
    "recipient_not_allowed": _("服务对象"),
    "not_in_network": _("服务网络"),
    "lead_time": _("提前预约"),
    "filing_deadline": _("申请时限"),
    "citizenship": _("国籍/地区"),
    "distance": _("按距离分档"),
    "daily_rate": _("按日补贴"),
    "advance_formula": _("垫付公式"),
    "amount_threshold": _("金额门槛"),
    "completed": _("服务完成后"),
}

# Values no vocabulary of the terms summary names.
OTHER_VALUE_NAMES: dict[str, Promise] = {
    "natural": _("自然时间"),
    "working": _("工作时间"),
    "in_time": _("按时"),
    "late": _("逾期"),
    "used": _("视为已使用"),
    "refused": _("不予受理"),
    "contacted": _("服务商已联系客户"),
    "application": _("申请"),
    "service": _("服务"),
    "city": _("城市"),
    "hospital": _("医院"),
    "pharmacy": _("药房"),
    "nationwide": _("全国"),
    "home": _("家中"),
    "deadline": _("截止时限"),
    "average": _("平均时效"),
    "estimate": _("预计时效"),
    "before": _("之前"),
    "after": _("之后"),
    "requests": _("申请次数"),
    "consecutive_days": _("连续天数"),
    "times": _("次"),
    "cny": _("元"),
    "unlimited": _("不限"),
    "inside_hours": _("按服务时间内外"),
    "ordinary": _("一般情形"),
    "most_lenient": _("最宽松者"),
    "spouse": _("配偶"),
    "child": _("子女"),
    "parent": _("父母"),
    "other": _("其他"),
}

_VALUE_NAMES = (
    display.UNIT_NAMES,
    display.PERIOD_NAMES,
    display.SHARING_NAMES,
    display.EVENT_NAMES,
    display.ANCHOR_NAMES,
    display.DAYS_NAMES,
    display.PERSON_NAMES,
    display.WARD_NAMES,
    display.SCOPE_NAMES,
)


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def value_labels(values: list[str]) -> dict[str, str]:
    """Labels of an enumeration's values: from the first vocabulary naming them all, else
    each from the first vocabulary naming it (unnamed values keep their code)."""
    for names in _VALUE_NAMES:
        if all(value in names for value in values):
            return {value: str(names[value]) for value in values}
    labels = {}
    vocabularies: tuple[Mapping[str, object], ...] = (*_VALUE_NAMES, OTHER_VALUE_NAMES)
    for value in values:
        for vocabulary in vocabularies:
            if value in vocabulary:
                labels[value] = str(vocabulary[value])
                break
    return labels
