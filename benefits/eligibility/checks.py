"""One check per rule kind (``CHECKS``, looked up by the rule's class). A check reads the
rule and the facts and answers None (passes), a Chinese failure message (with the date it
will pass, for a matter of time), or ``Missing`` when the fact it needs was not given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from benefits.calendar.durations import day_after, day_before, duration_after
from benefits.calendar.workcalendar import WorkingCalendar, library_calendar, within_hours
from benefits.eligibility.checks_policy import POLICY_CHECKS
from benefits.eligibility.model import (
    MISSING_FACTS,
    UNCHECKED,
    AmountCheck,
    Facts,
    Missing,
    PartExcluded,
    Unchecked,
)
from benefits.terms import display as terms_display
from benefits.terms.display import ANCHOR_NAMES
from benefits.terms.quota import Quota
from benefits.terms.rules import (
    AgeRule,
    CitizenshipRule,
    CoolingOffRule,
    CoveredConditionRule,
    FareClassRule,
    FilingDeadlineRule,
    HospitalisationRule,
    LeadTimeRule,
    NetworkRule,
    PolicyInForceRule,
    RecipientRule,
    ServiceHoursRule,
    ServiceValidityRule,
    TimeWindowRule,
    UnsuitableConditionRule,
    WaitingPeriodRule,
)
from benefits.terms.timing import Duration, Offset
from portal.kernel.clock import SHANGHAI

STATUS_LABELS = {"lapsed": "已失效", "terminated": "已终止", "expired": "已满期"}


def cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# Each check returns a failure message, a fact it misses, ``UNCHECKED`` when what it needs
# cannot be known yet, a part of the service excluded, or None; a tuple adds the date it will
# pass. Its first argument is a rule of the class it is filed under in ``CHECKS``
# (``evaluate`` looks it up by ``type(rule)``), which a dict's value type cannot say: hence
# ``Any``.
type CheckOutcome = str | tuple[str, date] | Missing | Unchecked | PartExcluded | AmountCheck | None
Check = Callable[[Any, Facts], CheckOutcome]


def _policy_in_force(rule: PolicyInForceRule, facts: Facts) -> str | None:
    if facts.policy.status != "in_force":
        return f"保单{STATUS_LABELS.get(facts.policy.status, '不在有效状态')}，无法使用服务"
    today = facts.at.date()
    if not facts.policy.effective_on <= today <= facts.policy.expires_on:
        return (
            f"服务时间须在保单期间内（{cn_date(facts.policy.effective_on)}至"
            f"{cn_date(facts.policy.expires_on)}）"
        )
    return None


def _cooling_off(rule: CoolingOffRule, facts: Facts) -> tuple[str, date] | None:
    days = rule.days or facts.policy.cooling_off_days
    last = facts.policy.signed_on + timedelta(days=days)  # runs from the day after signing
    if facts.at.date() <= last:
        return f"犹豫期至{cn_date(last)}结束，之后方可使用", last + timedelta(days=1)
    return None


def _waiting(rule: WaitingPeriodRule, facts: Facts) -> str | tuple[str, date] | Missing | None:
    if rule.waived_on_transfer and facts.policy.transferred:
        return None
    days = rule.days or facts.policy.waiting_days
    if days is None:
        return None  # the contract has none
    # "生效日起30日内（含第30天）": the effective date is day 1.
    last = facts.policy.effective_on + timedelta(days=days - (1 if rule.inclusive else 0))
    if rule.measured_on == "admission":
        return _admitted_after_waiting(facts, last)
    diagnosis = facts.diagnosis
    if rule.diagnosis_inside_disqualifies and diagnosis is not None:
        when = diagnosis.first_diagnosed_on or diagnosis.diagnosed_on
        if facts.policy.effective_on <= when <= last:
            # Never qualifies, so no date to wait for, even inside the waiting period.
            return f"疾病于等待期内（{cn_date(when)}）确诊，不可使用本服务"
    if facts.at.date() <= last:
        return f"等待期至{cn_date(last)}结束，之后方可使用", last + timedelta(days=1)
    return None


def _admitted_after_waiting(facts: Facts, last: date) -> str | Missing | None:
    """平安 住院陪护 "在主险等待期后……发生住院可申请": the stay must begin after the waiting
    period; a stay admitted inside it never qualifies, so there is no date to wait for."""
    if facts.stay is None:
        return Missing.of("hospitalisation", "以核对入院日期是否在等待期后")
    admitted = facts.stay.admitted_on
    if admitted <= last:
        return (
            f"等待期至{cn_date(last)}结束，本次住院于{cn_date(admitted)}入院，"
            "须为等待期后发生的住院"
        )
    return None


def _validity(rule: ServiceValidityRule, facts: Facts) -> str | None:
    if rule.renews_with_policy:
        return None  # follows the policy, checked by policy_not_in_force
    ends = day_after(facts.policy.effective_on, rule.valid_for, calendar=facts.calendar)
    ends -= timedelta(days=1)
    if facts.at.date() > ends:
        return f"服务有效期已于{cn_date(ends)}届满"
    return None


def _age_rule(rule: AgeRule, facts: Facts) -> str | None:
    age = _age(facts.recipient.birth_date, facts.at.date())
    if rule.max_years is not None and age > rule.max_years:
        return f"服务对象须不超过{rule.max_years}周岁（含），当前{age}周岁"
    if rule.min_years is not None and age < rule.min_years:
        return f"服务对象须年满{rule.min_years}周岁，当前{age}周岁"
    return None


def _citizenship(rule: CitizenshipRule, facts: Facts) -> str | None:
    if rule.mainland_only and not facts.recipient.mainland_citizen:
        return "本服务仅限中国大陆居民"
    return None


def _recipient(rule: RecipientRule, facts: Facts) -> str | None:
    recipient = facts.recipient
    if recipient.relation == "self":
        return None if "insured" in rule.allowed else "本服务不向被保险人本人提供"
    if "family" not in rule.allowed:
        return "本服务仅限被保险人本人使用"
    if rule.family_relations and recipient.relation not in rule.family_relations:
        return "服务对象须为被保险人的直系亲属"
    if rule.family_must_be_insured and not recipient.is_insured_member:
        return "家属须为同一家庭保单的被保险人方可共享本服务"
    return None


def _lead_time(rule: LeadTimeRule, facts: Facts) -> str | Missing | None:
    lead = rule.min_lead
    if rule.per_site:
        # The lead depends on the clinic (博鳌超级医院 专家门诊 15 天): without it the shortest
        # one would pass a request the clinic refuses.
        lead_of_site = {s.site: s.min_lead for s in rule.per_site}
        if facts.site not in lead_of_site:
            return Missing.of("site", f"可选：{'、'.join(lead_of_site)}")
        lead = lead_of_site[facts.site]
    if facts.planned_at is None:
        return Missing.of("planned_at", "以核对提前申请时限")
    # A working-clock lead needs the calendar: evaluate() reports it unchecked without one.
    earliest = duration_after(facts.at, lead, calendar=facts.calendar, hours=None).due
    if facts.planned_at >= earliest:
        return None
    if lead.clock == "working":
        return (
            f"须至少提前{terms_display.duration(lead)}申请，"
            f"最早可预约{cn_date(earliest.astimezone(SHANGHAI).date())}的服务"
        )
    hours = (facts.planned_at - facts.at).total_seconds() / 3600
    return f"须至少提前{_fmt_duration(lead)}申请，当前距服务开始约{max(hours, 0):.0f}小时"


def _fmt_duration(duration: Duration) -> str:
    units = {"minutes": "分钟", "hours": "小时", "days": "天", "weeks": "周", "months": "个月"}
    return f"{format(duration.amount.normalize(), 'f')}{units.get(duration.unit, duration.unit)}"


def _stay(rule: HospitalisationRule, facts: Facts) -> str | Missing | None:
    stay = facts.stay
    if stay is None:
        return Missing.of("hospitalisation", "本服务须在住院时使用")
    if rule.exclude_day_surgery and stay.day_surgery:
        return "日间手术不属于本服务的住院范围"
    if stay.ward in rule.excluded_wards:
        names = "、".join(terms_display.WARD_NAMES[w] for w in rule.excluded_wards)
        return f"{names}住院不适用本服务"
    if rule.exclude_pregnancy and stay.pregnancy_related:
        return "妊娠相关住院不适用本服务"
    if rule.min_days is not None:
        end = stay.discharged_on or facts.at.date()
        # 算入不算出: the discharge day is not a hospital day; a same-day stay counts as one.
        days = max((end - stay.admitted_on).days, 1)
        if days < rule.min_days:
            return f"住院须不少于{rule.min_days}天，本次住院{days}天"
    if rule.requires_discharge and stay.discharged_on is None and facts.planned_at is None:
        return "须在主诊医生确认可出院后使用"
    if rule.requires_surgery:
        if stay.surgery is None:
            return Missing.of("surgery", "本服务适用于住院手术")
        if not stay.surgery:
            return "本服务适用于住院手术，本次住院未手术"
    return None


def _filing(rule: FilingDeadlineRule, facts: Facts) -> str | Missing | None:
    """Apply within the deadline after the visit or the discharge: the deadline whose
    anchor the facts give decides ("门诊以就诊日起、住院以出院当日起 10 个工作日")."""
    assert facts.calendar is not None  # evaluate() reports it unchecked otherwise
    missed = []
    for deadline in rule.deadlines:
        day = _anchor(deadline.after, facts)
        if day is None:
            continue
        start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
        if deadline.within.clock == "working":
            due = duration_after(start, deadline.within, calendar=facts.calendar, hours=None).due
        else:  # "出院后3日内": to the end of the third day
            last = day_after(day, deadline.within, calendar=None)
            due = datetime.combine(last, time.max, tzinfo=SHANGHAI)
        if facts.at <= due:
            return None
        after = ANCHOR_NAMES.get(deadline.after, deadline.after)
        label = deadline.label or f"{after}后{terms_display.duration(deadline.within)}内"
        due_day = cn_date(due.astimezone(SHANGHAI).date())
        missed.append(f"须在{label}提出申请（截至{due_day}），已超过时限")
    if missed:
        return "；".join(missed)
    return _anchor_missing(rule.deadlines[0].after, "以核对申请时限")


def _anchor(anchor: str, facts: Facts) -> date | None:
    stay, diagnosis = facts.stay, facts.diagnosis
    return {
        "visit": facts.planned_at.date() if facts.planned_at else None,
        "admission": stay.admitted_on if stay else None,
        "discharge": stay.discharged_on if stay else None,
        "diagnosis": diagnosis.diagnosed_on if diagnosis else None,
        "first_use": facts.first_use_on,
        "policy_effective": facts.policy.effective_on,
        "service_start": facts.planned_at.date() if facts.planned_at else None,
    }.get(anchor)


# What to ask for when an anchor's date is unknown.
def _anchor_missing(anchor: str, detail: str) -> Missing:
    if anchor == "visit":  # the visit's date is given as the planned time
        return Missing("planned_at", f"请提供就诊日期，{detail}")
    fact = {"admission": "hospitalisation", "discharge": "discharged_on"}.get(anchor, anchor)
    return Missing.of(fact if fact in MISSING_FACTS else "planned_at", detail)


def _offset(anchor_day: date, offset: Offset, calendar: WorkingCalendar | None) -> date:
    """The day ``offset`` before or after ``anchor_day`` (facts are dates: hours count as
    whole days, "出院前24小时" is the day before discharge)."""
    shift = day_before if offset.direction == "before" else day_after
    return shift(anchor_day, offset, calendar=calendar)


def _window(rule: TimeWindowRule, facts: Facts) -> str | Missing | None:
    anchor_day = _anchor(rule.anchor, facts)
    if anchor_day is None:
        if rule.anchor == "discharge" and rule.not_before is None:
            return None  # still in hospital: "before discharge" is still open
        return _anchor_missing(rule.anchor, "以核对时间窗")
    on = facts.at.date()
    if rule.subject == "service" and facts.planned_at is not None:
        on = facts.planned_at.date()
    if rule.not_before is not None:
        earliest = _offset(anchor_day, rule.not_before, facts.calendar)
        if on < earliest:
            return f"须在{cn_date(earliest)}及以后使用"
    if rule.not_after is not None:
        latest = _offset(anchor_day, rule.not_after, facts.calendar)
        if on > latest:
            return f"已超过时限（{cn_date(latest)}）"
    return None


def _service_hours(rule: ServiceHoursRule, facts: Facts) -> str | Missing | None:
    """The application (now) or the booked time must fall inside the rule's hours: 平安 陪诊
    "就医时间需为非法定节假日的白天时段" refuses an evening or a holiday appointment."""
    moment = facts.at if rule.subject == "application" else facts.planned_at
    if moment is None:
        return Missing.of("planned_at", "以核对服务时段")
    # The calendar is needed only for holidays; evaluate() reports it unchecked without one.
    calendar = facts.calendar or library_calendar()
    if within_hours(moment, rule.hours, calendar):
        return None
    what = "申请时间" if rule.subject == "application" else "预约的服务时间"
    local = moment.astimezone(SHANGHAI)
    return (
        f"{what}须在{rule.description or terms_display.hours(rule.hours)}内，"
        f"{cn_date(local.date())} {local:%H:%M} 不在其内"
    )


def _fare_class(rule: FareClassRule, facts: Facts) -> str | None:
    """Every fare claimed for a transport the rule names must be in an allowed class; a
    claim without fares (fuel, taxi, lodging) has nothing to check."""
    allowed = {fare.transport: fare.allowed for fare in rule.fares}
    refused = [
        f"{transport}仅限{'、'.join(allowed[transport])}，本次为{travel_class}"
        for transport, travel_class in facts.fares
        if transport in allowed and travel_class not in allowed[transport]
    ]
    return "；".join(refused) or None


def _condition(rule: CoveredConditionRule, facts: Facts) -> str | Missing | None:
    diagnosis = facts.diagnosis
    if diagnosis is None:
        return Missing.of("diagnosis", f"本服务适用于：{rule.description}")
    if not diagnosis.confirmed and not rule.accept_suspected:
        return "本服务须为确诊疾病，疑似诊断不可使用"
    if rule.disease_list and rule.disease_list not in diagnosis.in_lists:
        return f"所患疾病不在本服务约定的疾病范围内（{rule.description}）"
    if rule.require_first_diagnosis:
        # "初次罹患": the first diagnosis ever; when no earlier one is given, this one is it.
        first = diagnosis.first_diagnosed_on or diagnosis.diagnosed_on
        if first < facts.policy.effective_on:
            return (
                f"本服务限保单生效（{cn_date(facts.policy.effective_on)}）后初次确诊，"
                f"该疾病于{cn_date(first)}已确诊"
            )
    return None


def _unsuitable(rule: UnsuitableConditionRule, facts: Facts) -> str | PartExcluded | None:
    found = [c for c in rule.conditions if c.code in facts.conditions]
    refused = [c.label for c in found if not c.part]
    if refused:
        return f"属于不适用情形：{'、'.join(refused)}"
    if found:
        parts = "、".join(dict.fromkeys(c.part for c in found))
        labels = "、".join(c.label for c in found)
        return PartExcluded(f"{parts}不适用（{labels}），其余服务仍可使用")
    return None


# Grades from the lowest; 三甲 is the top of 三级.
HOSPITAL_GRADES = ("一级", "二级", "三级", "三甲")


def _network(rule: NetworkRule, facts: Facts) -> str | Missing | Unchecked | None:
    if rule.coverage_list is not None:
        covered = facts.covered_by.get(rule.coverage_list)
        if covered is None:
            if rule.location == "home":  # the insured's home, which the policy records
                return Missing.of("home_city")
            return Missing.of("place", "以核对服务网络")
        if not covered:
            return f"服务地点不在本服务的网络范围内（{rule.description or rule.coverage_list}）"
    return _hospital_grade(rule, facts)


def _hospital_grade(rule: NetworkRule, facts: Facts) -> str | Unchecked | None:
    """ "二级及以上公立医院": no annex prints grades or ownership, so without the caller's
    word on them the rule is unchecked rather than passed."""
    if rule.public_only:
        if facts.hospital_public is None:
            return UNCHECKED
        if not facts.hospital_public:
            return "本服务仅限公立医院"
    if rule.min_hospital_grade:
        if facts.hospital_grade not in HOSPITAL_GRADES:
            return UNCHECKED
        wanted = HOSPITAL_GRADES.index(rule.min_hospital_grade)
        if HOSPITAL_GRADES.index(facts.hospital_grade) < wanted:
            return f"本服务限{rule.min_hospital_grade}及以上医院，该医院为{facts.hospital_grade}"
    return None


def per_use_limits(quota: Quota, facts: Facts) -> list[str]:
    """The longest single use (7天住院陪护: "最多连续7天", "不可拆分"): a request for more days
    than one use may last is refused. Only days are compared: no request states the hours of
    an escort or a call, which the vendor keeps to."""
    days = facts.days_requested
    if days is None:
        return []
    bounds = [
        (limit.amount, "最多连续") for limit in quota.limits if limit.kind == "consecutive_days"
    ]
    per_use = quota.max_per_use
    if per_use is not None and per_use.unit in _DAYS_IN and per_use.clock == "natural":
        bounds.append((per_use.amount * _DAYS_IN[per_use.unit], "单次最长"))
    return [
        f"{label}{_number(bound)}天，本次申请{_number(days)}天"
        for bound, label in bounds
        if days > bound
    ]


_DAYS_IN = {"days": 1, "weeks": 7}


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


CHECKS: dict[type, Check] = {
    PolicyInForceRule: _policy_in_force,
    CoolingOffRule: _cooling_off,
    WaitingPeriodRule: _waiting,
    ServiceValidityRule: _validity,
    AgeRule: _age_rule,
    CitizenshipRule: _citizenship,
    RecipientRule: _recipient,
    LeadTimeRule: _lead_time,
    HospitalisationRule: _stay,
    TimeWindowRule: _window,
    CoveredConditionRule: _condition,
    UnsuitableConditionRule: _unsuitable,
    NetworkRule: _network,
    FilingDeadlineRule: _filing,
    ServiceHoursRule: _service_hours,
    FareClassRule: _fare_class,
    **POLICY_CHECKS,
}


def _durations(rule: object) -> list[Duration]:
    """The durations a rule's check counts (``valid_for`` only when it does not renew)."""
    if isinstance(rule, LeadTimeRule):
        return [rule.min_lead, *(site.min_lead for site in rule.per_site)]
    if isinstance(rule, ServiceValidityRule) and not rule.renews_with_policy:
        return [rule.valid_for]
    if isinstance(rule, TimeWindowRule):
        return [bound for bound in (rule.not_before, rule.not_after) if bound is not None]
    return []


def needs_working_calendar(rule: object) -> bool:
    """Filing deadlines, and rules that count a duration on the working clock (a lead time,
    a validity, a window's offset), need the working calendar."""
    if isinstance(rule, FilingDeadlineRule):
        return True
    if isinstance(rule, ServiceHoursRule):
        return rule.hours.days != "every_day"  # holidays are in the calendar
    return any(duration.clock == "working" for duration in _durations(rule))
