"""The scenario table: what a sloppy engine gets wrong, case by case, through the staff API
as the hotline calls it, with the clock moved by time-machine. Each case names its clause
(handbook file, section and the handbook's own words) and expects what the handbook says,
not what the code happens to answer: boundaries ("以内（含 24 小时）" makes the boundary
itself count), quotas pooled across the family and across policy years, quotas per stay,
bundle windows ("服务启动后180天内"), working days across the 2025 National Day and the
2026 Spring Festival with their make-up working days, and cancellation exactly at the edge
of the free window.

The calendars the cases rely on (State Council notices, as the chinesecalendar library has
them):

* 2025 National Day and Mid-Autumn: 1–8 October off; Sunday 28 September and Saturday
  11 October are working days (调休上班).
* 2026 Spring Festival: 15–23 February off; Saturday 14 February and Saturday 28 February
  are working days. (2026 New Year: 1–3 January off, Sunday 4 January a working day.)

Where the handbooks are silent, DOMAIN.md's counting conventions decide (hospital days
算入不算出; "出院后 N 个工作日内" starts with the first working day after the date; distances
are road distances), and the case says so in ``trap``.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import Insured
from tests.scenarios.scenario_support import (
    MANULIFE_DMM,
    MANULIFE_HYWJ,
    PINGAN,
    SEEDS,
    SUZHOU_HOME,
    XIAOKANG,
    Case,
    Check,
    Due,
    Event,
    Handover,
    Hotline,
    PolicySpec,
    Quota,
    Submit,
    at,
    clause,
    iso,
    play,
    squeeze,
)

fresh_memos = support.fresh_memos  # fixture: memos hold users' permissions and insurers too

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]


# --- policies -----------------------------------------------------------------------------
# A 平安 family policy (holder M1 and spouse M2, both insured, at home in 上海), in force from
# 2 January 2026 (30 waiting days, to 31 January inclusive) or from 1 June 2025.
PINGAN_2026 = PolicySpec("pingan.health", date(2026, 1, 2))
PINGAN_2025 = PolicySpec("pingan.health", date(2025, 6, 1))
PINGAN_SUZHOU = PolicySpec("pingan.health", date(2026, 1, 2), members=(SUZHOU_HOME,))
# 小康: signed 1 January 2026, 15 days' cooling-off, no waiting period.
XIAOKANG_2026 = PolicySpec(
    "xiaokang.rsyj", date(2026, 1, 2), signed_on=date(2026, 1, 1), waiting_days=None
)
# 中宏 DMM: in force from 1 June 2025 (cooling-off to 16 June, 30 waiting days to 30 June);
# from 2 January 2026; or for two policy years from 1 March 2025.
DMM_2025 = PolicySpec("manulife.dmm", date(2025, 6, 1))
# 异地就医补贴: 户口 in 广州, the visit in 上海, after a green-channel service (专家门诊).
GUANGZHOU_HUKOU = (
    Insured("M1", date(1980, 5, 1), "self", home_city="310101", hukou_city="440106"),
)
DMM_2025_AWAY = PolicySpec(
    "manulife.dmm",
    date(2025, 6, 1),
    members=GUANGZHOU_HUKOU,
    used=(("manulife.dmm.expert_outpatient", date(2025, 7, 20)),),
)
DMM_2026 = PolicySpec("manulife.dmm", date(2026, 1, 2))
DMM_TWO_YEARS = PolicySpec("manulife.dmm", date(2025, 3, 1), expires_on=date(2027, 2, 28))
HYWJ_2026 = PolicySpec("manulife.hywj", date(2026, 1, 2))
HYWJ_2026_AWAY = PolicySpec(
    "manulife.hywj",
    date(2026, 1, 2),
    members=GUANGZHOU_HUKOU,
    used=(("manulife.hywj.ci_outpatient", date(2026, 2, 2)),),
)

# --- the requests' facts --------------------------------------------------------------------


def stay(admitted: str, discharged: str | None = None, **more: object) -> dict[str, object]:
    values: dict[str, object] = {"admitted_on": admitted, **more}
    if discharged:
        values["discharged_on"] = discharged
    return values


MDT = "pingan.health.tumor_mdt"
MDT_CONTEXT = {
    "diagnosis": {"confirmed": True, "diagnosed_on": "2026-02-20"},
    "variant": "online",  # 线上视频会诊: no hospital list
}
MDT_AT = at(2026, 3, 10, 14)  # the consultation the agent books

CARER_7D = "pingan.health.inpatient_carer_7d"
CARER_STAY = stay("2026-03-01", hospital="上海市第一人民医院", region="310101")
CARER_START = at(2026, 3, 3, 10)
CARER_CONTEXT = {"planned_at": iso(CARER_START), "hospitalisation": CARER_STAY}

ESCORT = "pingan.health.escort"
ESCORT_AT = at(2026, 3, 5, 10)
ESCORT_CONTEXT = {"planned_at": iso(ESCORT_AT), "region": "110105"}  # 北京市朝阳区

OUTPATIENT = "pingan.health.outpatient_assist"
OUTPATIENT_CONTEXT = {"region": "上海市"}

ADMISSION = "pingan.health.admission_assist"
ADMISSION_CONTEXT = {
    "region": "上海市",
    "hospitalisation": stay("2026-03-10", hospital="上海市第一人民医院", region="310101"),
}

VISIT = "pingan.health.hospital_visit"
VISIT_AT = at(2026, 3, 4, 12)
VISIT_CONTEXT = {
    "planned_at": iso(VISIT_AT),
    "hospitalisation": stay("2026-02-28", hospital="北京协和医院", region="110101"),
}

TRANSPORT = "pingan.health.discharge_transport"
TRANSPORT_AT = at(2026, 3, 5, 10)
TRANSPORT_CONTEXT = {
    "planned_at": iso(TRANSPORT_AT),
    "hospitalisation": stay("2026-02-25", "2026-03-05", region="110101"),
}

XK_TRANSPORT = "xiaokang.rsyj.discharge_transport_escort"
XK_CAR_AT = at(2026, 3, 5, 10)  # the actual car time (实际用车时间)
XK_CONTEXT = {
    "planned_at": iso(XK_CAR_AT),
    "hospitalisation": stay("2026-02-26", "2026-03-05", region="110101"),
}

DMM_DIAGNOSIS = {"confirmed": True, "diagnosed_on": "2025-07-10"}
DMM_CARER = "manulife.dmm.inpatient_carer"
PSYCH = "manulife.dmm.psych_hotline"
DEPOSIT = "manulife.dmm.deposit_advance"
GLOBAL_OPINION = "manulife.dmm.second_opinion_global"
TRAVEL = "manulife.dmm.travel_subsidy"
BUNDLE = "manulife.dmm.post_discharge_care"
REMOTE = f"{BUNDLE}.remote_followup"
GUIDE = f"{BUNDLE}.guide"
HOME_GUIDANCE = f"{BUNDLE}.home_guidance"
BUNDLE_TRANSPORT = f"{BUNDLE}.transport"
BUNDLE_CONTEXT = {
    "diagnosis": DMM_DIAGNOSIS,
    "hospitalisation": stay("2025-07-12", "2025-07-20", region="310101"),
}
HYWJ_TRAVEL = "manulife.hywj.travel_subsidy"
HYWJ_DIAGNOSIS = {"disease": "恶性肿瘤-重度", "confirmed": True, "diagnosed_on": "2026-02-05"}


# --- step shorthands --------------------------------------------------------------------------


def booked(when: datetime, vendor: str, start: datetime, on: int = -1) -> tuple[Event, ...]:
    """Approved, assigned to ``vendor`` and booked for ``start``, all at ``when``."""
    return (
        Event(when, "approve", on=on),
        Event(when, "assign", {"vendor": vendor}, on=on),
        Event(when, "schedule", {"at": iso(start)}, on=on),
    )


def mdt_booked(when: datetime) -> tuple[Event, ...]:
    """平安 MDT: the 专案管理组's review passed, then approved, assigned and booked."""
    return (
        Event(when, "review:case_panel_review", {"reason": "专案管理组：适合多学科会诊"}),
        *booked(when, "pingan_team", MDT_AT),
    )


def delivered(
    when: datetime, vendor: str, consumption: list[dict[str, str]] | None = None, on: int = -1
) -> tuple[Event, ...]:
    """Approved, assigned, started and completed at ``when``."""
    return (
        Event(when, "approve", on=on),
        Event(when, "assign", {"vendor": vendor}, on=on),
        Event(when, "start", on=on),
        Event(when, "complete", {"consumption": consumption or []}, on=on),
    )


def cancel(when: datetime, on: int = -1) -> Event:
    return Event(when, "cancel", {"reason": "客户本人原因取消", "cause": "member"}, on=on)


def reschedule(when: datetime, start: datetime) -> Event:
    return Event(when, "reschedule", {"at": iso(start)})


# --- the table ------------------------------------------------------------------------------

CASES = [
    # === 平安 肿瘤多学科会诊 (MDT): "24 小时以内（含 24 小时）", at most 2 changes ============
    Case(
        "pingan-mdt-cancel-exactly-24h-before-counts-as-used",
        clause(
            PINGAN,
            "一、4.4 注意事项 5）",
            "在会诊咨询服务开始前 24 小时以内（含 24 小时）取消/修改预约",
            "则视作服务权益已使用完毕",
        ),
        PINGAN_2026,
        (
            # given a consultation booked for 10 March 14:00
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *mdt_booked(at(2026, 3, 2, 11)),
            # when the insured cancels at 9 March 14:00, exactly 24 hours before
            cancel(at(2026, 3, 9, 14)),
            # then the boundary is inside the window: the consultation is used
            Quota("used"),
        ),
        trap="24 h treated as still 'at least 24 h before' (free)",
    ),
    Case(
        "pingan-mdt-cancel-24h-and-a-minute-before-is-free",
        clause(
            PINGAN,
            "一、4.4 注意事项 4）",
            "可在会诊咨询服务开始前 24 小时以上取消/修改预约，最多 2 次",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *mdt_booked(at(2026, 3, 2, 11)),
            # when cancelled 24 hours and one minute before
            cancel(at(2026, 3, 9, 13, 59)),
            # then the consultation is returned
            Quota("released"),
        ),
        trap="the boundary moved the other way",
    ),
    Case(
        "pingan-mdt-third-change-counts-as-used",
        clause(
            PINGAN,
            "一、4.4 注意事项 4）",
            "可在会诊咨询服务开始前 24 小时以上取消/修改预约，最多 2 次",
            "超出 2次取消/修改预约，仍视作服务权益已使用完毕",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *mdt_booked(at(2026, 3, 2, 11)),
            # given two changes, each days ahead of the consultation
            reschedule(at(2026, 3, 4, 10), at(2026, 3, 12, 14)),
            reschedule(at(2026, 3, 5, 10), at(2026, 3, 13, 14)),
            # when the insured cancels (a third change), still a week ahead
            cancel(at(2026, 3, 6, 10)),
            # then the consultation is used
            Quota("used"),
        ),
        trap="changes not counted: only the time to the start is checked",
    ),
    Case(
        "pingan-mdt-a-change-and-a-cancel-are-two-changes-and-free",
        clause(
            PINGAN,
            "一、4.4 注意事项 4）",
            "可在会诊咨询服务开始前 24 小时以上取消/修改预约，最多 2 次",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *mdt_booked(at(2026, 3, 2, 11)),
            reschedule(at(2026, 3, 4, 10), at(2026, 3, 12, 14)),
            cancel(at(2026, 3, 5, 10)),
            Quota("released"),
        ),
        trap="the booking itself counted as a change",
    ),
    Case(
        "pingan-mdt-change-inside-24h-has-used-the-consultation",
        clause(
            PINGAN,
            "一、4.4 注意事项 5）",
            "在会诊咨询服务开始前 24 小时以内（含 24 小时）取消/修改预约",
            "则视作服务权益已使用完毕",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *mdt_booked(at(2026, 3, 2, 11)),
            # given the insured moved the consultation 23 hours before it
            reschedule(at(2026, 3, 9, 15), at(2026, 3, 20, 14)),
            # when they cancel the new time five days ahead
            cancel(at(2026, 3, 15, 14)),
            # then the late change already used the consultation
            Quota("used"),
        ),
        trap="only the last appointment's distance is checked",
    ),
    Case(
        "pingan-mdt-is-each-insured-persons-own",
        clause(PINGAN, "一、4.1 服务内容 使用条件", "仅限被保险人本人使用", "使用次数 1次"),
        PINGAN_2026,
        (
            # given the holder has had his consultation
            Submit(at(2026, 3, 2, 10), MDT, MDT_CONTEXT),
            *delivered(at(2026, 3, 3, 10), "pingan_team"),
            # when the spouse, insured on the same family policy, asks for her own
            Submit(at(2026, 3, 4, 10), MDT, MDT_CONTEXT, member="M2"),
            # then it is granted: MDT is not one of the five shared services
        ),
        trap="pooled across the family like 门诊协助",
    ),
    Case(
        "pingan-mdt-response-two-hours-in-nine-to-six-across-national-day",
        clause(
            PINGAN,
            "一、4.3 服务流程 3)",
            "专案经理将在 2小时内（工作日 9:00~18:00）电话联系客户",
            "如遇非工作日(如周六、周日和法定节假日)，服务时间顺延",
        ),
        PINGAN_2025,
        (
            # when the request comes in on 30 September 2025 at 17:30
            Submit(
                at(2025, 9, 30, 17, 30),
                MDT,
                {
                    "diagnosis": {"confirmed": True, "diagnosed_on": "2025-08-01"},
                    "variant": "online",
                },
            ),
            # then half an hour counts that day and 1.5 h on 9 October, after the holiday
            Due("response", at(2025, 10, 9, 10, 30)),
        ),
        trap="平安's 9:00–21:00 (due 19:30 the same day) or calendar days (1 October)",
    ),
    # === 平安 7天住院陪护 =================================================================
    Case(
        "pingan-carer-7d-cancel-exactly-two-hours-before-is-free",
        clause(
            PINGAN,
            "一、6.4 常见问答",
            "请提前一天或至少提前两小时自主或致电客服取消服务",
            "权益会自动返还至客户账户",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), CARER_7D, CARER_CONTEXT),
            *booked(at(2026, 3, 2, 11), "pingan_team", CARER_START),
            # when the family cancels at 08:00 for a carer due at 10:00
            cancel(at(2026, 3, 3, 8)),
            # then "至少提前两小时" is met: the right goes back
            Quota("released"),
        ),
        trap="'提前一天' read as the rule, or 2 h read as exclusive",
    ),
    Case(
        "pingan-carer-7d-lead-time-exactly-12-hours",
        clause(
            PINGAN,
            "一、6.2 服务标准",
            "客户提前 12 小时提交申请",
            "注意：客户需在入院前或住院期间提前 12 小时提出服务申请",
        ),
        PINGAN_2026,
        (
            # when the family asks at 22:00 for a carer at 10:00 the next morning
            Submit(at(2026, 3, 2, 22), CARER_7D, CARER_CONTEXT),
            # then it is in time (the section's 12 hours, not its own FAQ's 24)
        ),
        trap="6.4's FAQ '提前 24 小时' applied, or 12 h read as exclusive",
    ),
    Case(
        "pingan-carer-7d-lead-time-a-minute-short-of-12-hours",
        clause(PINGAN, "一、6.2 服务标准", "客户提前 12 小时提交申请"),
        PINGAN_2026,
        (Submit(at(2026, 3, 2, 22, 1), CARER_7D, CARER_CONTEXT, refused=("lead_time",)),),
        trap="lead times rounded to whole hours",
    ),
    Case(
        "pingan-carer-7d-unused-days-lapse-and-no-second-carer-for-the-family",
        clause(
            PINGAN,
            "一、6.4 常见问答",
            "如果服务启动时客户的住院天数不足 7 天，剩余天数将自动失效",
            "客户不可以申请第 2 次住院陪护服务",
            "7 天住院陪护 5 项服务",
        ),
        PINGAN_2026,
        (
            # given the holder had a carer for 3 of the 7 days
            Submit(at(2026, 3, 2, 10), CARER_7D, CARER_CONTEXT),
            *delivered(
                at(2026, 3, 6, 10),
                "pingan_team",
                [{"measure": "days", "amount": "3", "note": "住院3天后出院"}],
            ),
            # when the spouse, in hospital later, asks for the remaining 4 days
            Submit(
                at(2026, 3, 20, 10),
                CARER_7D,
                {
                    "planned_at": iso(at(2026, 3, 21, 10)),
                    "hospitalisation": stay(
                        "2026-03-18", hospital="上海市第一人民医院", region="310101"
                    ),
                },
                member="M2",
                refused=("quota_exhausted",),
            ),
        ),
        trap="the 4 unused days kept as a balance",
    ),
    Case(
        "pingan-carer-7d-at-most-seven-days",
        clause(
            PINGAN,
            "一、6.2 服务标准",
            "保障期间服务仅限 1次，根据医嘱建议住院天数提供服务，最多提供 7 天专属护工服务",
        ),
        PINGAN_2026,
        (
            # when the family asks for a carer for 8 days
            Submit(
                at(2026, 3, 2, 10),
                CARER_7D,
                {**CARER_CONTEXT, "days": "8"},
                refused=("quota_exhausted",),
            ),
        ),
        trap="the 7-day bound never checked (the quota counts times)",
    ),
    Case(
        "pingan-carer-7d-seven-days-are-granted",
        clause(PINGAN, "一、6.2 服务标准", "最多提供 7 天专属护工服务"),
        PINGAN_2026,
        (Submit(at(2026, 3, 2, 10), CARER_7D, {**CARER_CONTEXT, "days": "7"}),),
        trap="7 read as exclusive",
    ),
    # === 平安 就医陪诊 ============================================================================
    Case(
        "pingan-escort-cancel-after-the-escort-is-confirmed-is-used",
        clause(
            PINGAN,
            "一、3.2 特殊约定 9）",
            "本公司已确认陪诊员安排，但因客户自身原因放弃或取消服务的，视同该次服务已完成，并扣减权益次数",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), ESCORT, ESCORT_CONTEXT),
            Event(at(2026, 3, 2, 11), "approve"),
            # given the escort is assigned (陪诊员安排已确认)
            Event(at(2026, 3, 2, 12), "assign", {"vendor": "pingan_team"}),
            # when the insured cancels two days ahead
            cancel(at(2026, 3, 3, 10)),
            Quota("used"),
        ),
        trap="a free window read into a clause that has none",
    ),
    Case(
        "pingan-escort-cancel-before-an-escort-is-confirmed-is-returned",
        clause(PINGAN, "一、3.2 特殊约定 9）", "本公司已确认陪诊员安排"),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), ESCORT, ESCORT_CONTEXT),
            Event(at(2026, 3, 2, 11), "approve"),
            cancel(at(2026, 3, 2, 12)),
            Quota("released"),
        ),
        trap="approval taken for the escort's confirmation",
    ),
    Case(
        "pingan-escort-failed-by-the-vendor-returns-the-right-to-the-family",
        clause(
            PINGAN,
            "一、3.4 常见问答",
            "本公司也无法安排陪诊员及时到达的，本公司将返还权益次数方便您后续使用",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), ESCORT, ESCORT_CONTEXT),
            *booked(at(2026, 3, 2, 11), "pingan_team", ESCORT_AT),
            # when no escort turns up on the day
            Event(at(2026, 3, 5, 10), "fail", {"reason": "陪诊员临时因故无法到达"}),
            Quota("released"),
            # then the family's one escort is there again, for the spouse
            Submit(
                at(2026, 3, 6, 10),
                ESCORT,
                {"planned_at": iso(at(2026, 3, 9, 10)), "region": "110105"},
                member="M2",
            ),
        ),
        trap="a failure ends the request like a cancellation inside the window",
    ),
    Case(
        "pingan-escort-applied-exactly-48-hours-ahead",
        clause(PINGAN, "一、3.2 服务时效 1）", "客户需提前 48 小时提交服务申请"),
        PINGAN_2026,
        (
            Submit(
                at(2026, 3, 2, 10),
                ESCORT,
                {"planned_at": iso(at(2026, 3, 4, 10)), "region": "110105"},
            ),
        ),
        trap="48 h read as exclusive",
    ),
    Case(
        "pingan-escort-applied-a-minute-late",
        clause(PINGAN, "一、3.2 服务时效 1）", "客户需提前 48 小时提交服务申请"),
        PINGAN_2026,
        (
            Submit(
                at(2026, 3, 2, 10, 1),
                ESCORT,
                {"planned_at": iso(at(2026, 3, 4, 10)), "region": "110105"},
                refused=("lead_time",),
            ),
        ),
        trap="lead time counted in whole hours or days",
    ),
    Case(
        "pingan-escort-without-a-time-asks-for-it-instead-of-refusing",
        clause(PINGAN, "一、3.2 服务时效 1）", "客户需提前 48 小时提交服务申请"),
        PINGAN_2026,
        (
            # when the caller has not said when the visit is
            Submit(at(2026, 3, 2, 10), ESCORT, {"region": "110105"}, incomplete=("planned_at",)),
            # then the agent is told to ask for it (incomplete), not that the caller is late
        ),
        trap="an unknown time read as 'not 48 h ahead' (not_eligible), or as in time (201)",
    ),
    Case(
        "pingan-escort-response-on-the-national-day-make-up-sunday",
        clause(PINGAN, "一、3.2 服务时效 2）", "本公司将于 4 工作小时内响应需求"),
        PINGAN_2025,
        (
            # when the request comes in on Sunday 28 September 2025 at 10:00 (调休上班)
            Submit(
                at(2025, 9, 28, 10),
                ESCORT,
                {"planned_at": iso(at(2025, 10, 9, 10)), "region": "110105"},
            ),
            # then it is a working day: four working hours end at 14:00 the same day
            Due("response", at(2025, 9, 28, 14)),
        ),
        trap="Sunday treated as closed (due Monday 29 September 13:00)",
    ),
    # === 平安 等待期: the day ends at midnight in Beijing ===================================
    Case(
        "pingan-waiting-period-still-runs-on-day-30-at-23-30",
        clause(
            PINGAN, "服务规则及名词定义释义", "等待期：本合同生效日起 30 内（含第 30 天）为等待期"
        ),
        PINGAN_2026,
        (
            # given a policy in force from 2 January 2026: day 30 is 31 January
            Submit(
                at(2026, 1, 31, 23, 30),
                OUTPATIENT,
                OUTPATIENT_CONTEXT,
                refused=("waiting_period",),
            ),
        ),
        trap="day 30 left out of the waiting period",
    ),
    Case(
        "pingan-waiting-period-is-over-half-an-hour-into-day-31-beijing-time",
        clause(
            PINGAN, "服务规则及名词定义释义", "等待期：本合同生效日起 30 内（含第 30 天）为等待期"
        ),
        PINGAN_2026,
        (
            # when the hotline submits on 1 February 2026 at 00:30 in Beijing (16:30 UTC on
            # 31 January)
            Submit(at(2026, 2, 1, 0, 30), OUTPATIENT, OUTPATIENT_CONTEXT),
            # then day 31 has begun: the waiting period is over
        ),
        trap="the day read off the UTC clock (still 31 January)",
    ),
    # === 平安 门诊协助 ============================================================================
    Case(
        "pingan-outpatient-contact-across-national-day",
        clause(
            PINGAN,
            "一、1.3 服务流程 2）；1.4 常见问答",
            "服务专员 2 个工作小时内联系客户",
            "我们的工作时间是工作日 9:00-21:00",
        ),
        PINGAN_2025,
        (
            # when the request comes in on 30 September 2025 at 20:30
            Submit(at(2025, 9, 30, 20, 30), OUTPATIENT, OUTPATIENT_CONTEXT),
            # then 30 minutes that evening, 90 on 9 October, the first working day after
            Due("contact", at(2025, 10, 9, 10, 30)),
        ),
        trap="holidays ignored (due 1 October 10:30)",
    ),
    Case(
        "pingan-outpatient-contact-on-the-spring-festival-make-up-saturday",
        clause(
            PINGAN,
            "一、1.3 服务流程 2）；1.4 常见问答",
            "服务专员 2 个工作小时内联系客户",
            "我们的工作时间是工作日 9:00-21:00",
        ),
        PINGAN_2026,
        (
            # when the request comes in on Friday 13 February 2026 at 20:00
            Submit(at(2026, 2, 13, 20), OUTPATIENT, OUTPATIENT_CONTEXT),
            # then Saturday 14 February is a working day (调休上班): due 10:00 that day
            Due("contact", at(2026, 2, 14, 10)),
        ),
        trap="make-up days ignored (due 24 February 10:00, after the festival)",
    ),
    Case(
        "pingan-outpatient-contact-from-the-make-up-saturday-over-the-festival",
        clause(PINGAN, "一、1.3 服务流程 2）", "服务专员 2 个工作小时内联系客户"),
        PINGAN_2026,
        (
            # when the request comes in on the make-up Saturday 14 February at 20:30
            Submit(at(2026, 2, 14, 20, 30), OUTPATIENT, OUTPATIENT_CONTEXT),
            # then 30 minutes count that evening and the rest on 24 February, after 15–23
            Due("contact", at(2026, 2, 24, 10, 30)),
        ),
        trap="Monday 16 February taken for a working day",
    ),
    Case(
        "pingan-outpatient-feedback-24-working-hours-reach-into-the-make-up-saturday",
        clause(PINGAN, "一、1.3 服务流程 2）", "24 个工作小时内反馈安排进展"),
        PINGAN_2026,
        (
            # when the request comes in on Thursday 12 February 2026 at 15:00
            Submit(at(2026, 2, 12, 15), OUTPATIENT, OUTPATIENT_CONTEXT),
            # then 6 h on Thursday, 12 h on Friday, 6 h on the make-up Saturday
            Due("progress_feedback", at(2026, 2, 14, 15)),
        ),
        trap="24 working hours read as a day, or make-up Saturday skipped",
    ),
    Case(
        "pingan-outpatient-cancel-after-the-booking-is-used",
        clause(
            PINGAN,
            "一、1.1 特殊事项 1）",
            "门诊协助服务成功后，因客户原因放弃或取消服务时，视同该次服务已完成，扣除客户本次权益",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), OUTPATIENT, OUTPATIENT_CONTEXT),
            *booked(at(2026, 3, 3, 10), "pingan_team", at(2026, 3, 9, 9)),
            cancel(at(2026, 3, 4, 10)),
            Quota("used"),
        ),
        trap="a 24 h free window applied to every booking",
    ),
    Case(
        "pingan-family-pool-the-spouse-after-the-holder-used-it",
        clause(
            PINGAN,
            "服务共享规则",
            "门诊协助、国内第二诊疗、就医陪诊、住院协助、7 天住院陪护 5 项服务",
            "服务次数额度共享，但共享人必须是直系亲属且必须为家庭共享单内被保",
        ),
        PINGAN_2026,
        (
            # given the holder's 门诊协助 is done
            Submit(at(2026, 3, 2, 10), OUTPATIENT, OUTPATIENT_CONTEXT),
            *delivered(at(2026, 3, 9, 10), "pingan_team"),
            # when his spouse, also insured on the family policy, asks
            Submit(
                at(2026, 3, 10, 10),
                OUTPATIENT,
                OUTPATIENT_CONTEXT,
                member="M2",
                refused=("quota_exhausted",),
            ),
        ),
        trap="one right per insured person",
    ),
    Case(
        "pingan-family-pool-a-request-in-progress-holds-the-familys-right",
        clause(PINGAN, "服务共享规则", "服务次数额度共享"),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), OUTPATIENT, OUTPATIENT_CONTEXT),
            # when the spouse asks while the holder's request is still open
            Submit(
                at(2026, 3, 2, 11),
                OUTPATIENT,
                OUTPATIENT_CONTEXT,
                member="M2",
                refused=("quota_exhausted",),
            ),
        ),
        trap="only completed uses counted",
    ),
    Case(
        "pingan-family-pool-cancelled-before-booking-goes-back-to-the-family",
        clause(
            PINGAN, "服务共享规则；一、1.1 特殊事项 1）", "服务次数额度共享", "门诊协助服务成功后"
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), OUTPATIENT, OUTPATIENT_CONTEXT),
            cancel(at(2026, 3, 2, 11)),
            Quota("released"),
            Submit(at(2026, 3, 2, 12), OUTPATIENT, OUTPATIENT_CONTEXT, member="M2"),
        ),
        trap="the released unit returned to the holder's own pool only",
    ),
    # === 平安 住院协助 ============================================================================
    Case(
        "pingan-admission-cancel-after-the-bed-is-booked-is-used",
        clause(
            PINGAN,
            "一、5.1 注意事项 1）；5.3 服务流程 2）",
            "住院协助服务启动后，因客户原因放弃或取消服务的，视同该次服务已完成",
            "就医方案确定后启动服务",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), ADMISSION, ADMISSION_CONTEXT),
            # given the bed is booked (the plan is necessarily confirmed: the service started)
            *booked(at(2026, 3, 3, 10), "pingan_team", at(2026, 3, 10, 9)),
            cancel(at(2026, 3, 6, 10)),
            Quota("used"),
        ),
        trap="'started' looked up as the plan_confirmed event only",
    ),
    # === 平安 住院探视 / 出院交通安排: 4 h is a notice for changes, not a deduction ============
    Case(
        "pingan-visit-cancelled-an-hour-before-is-not-a-deduction",
        clause(
            PINGAN,
            "一、8.2 注意事项 2）",
            "如需变更已约定的服务时间，客户需提前 4 小时通知",
            "如客户未能提前变更已预约的服务，我方应尽力提供服务",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), VISIT, VISIT_CONTEXT),
            *booked(at(2026, 3, 2, 11), "pingan_team", VISIT_AT),
            cancel(at(2026, 3, 4, 11)),
            # then the handbook never says the visit counts as used: it is returned
            Quota("released"),
        ),
        trap="the change notice read as a free-cancellation window",
    ),
    Case(
        "pingan-discharge-transport-cancelled-two-hours-before-is-not-a-deduction",
        clause(
            PINGAN,
            "一、9.2 注意事项 5）",
            "如需变更已约定的服务时间，客户需提前 4 小时通知",
            "如客户未能提前变更已预约的服务，我方应尽力提供服务",
        ),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), TRANSPORT, TRANSPORT_CONTEXT),
            *booked(at(2026, 3, 2, 11), "pingan_team", TRANSPORT_AT),
            cancel(at(2026, 3, 5, 8)),
            Quota("released"),
        ),
        trap="the change notice read as a free-cancellation window",
    ),
    Case(
        "pingan-visit-one-per-stay",
        clause(PINGAN, "一、8.2 使用次数", "保单有效期内，每次住院提供 1 次"),
        PINGAN_2026,
        (
            Submit(at(2026, 3, 2, 10), VISIT, VISIT_CONTEXT),
            *delivered(at(2026, 3, 4, 13), "pingan_team"),
            # when a second visit is asked for during the same stay
            Submit(
                at(2026, 3, 5, 10),
                VISIT,
                {**VISIT_CONTEXT, "planned_at": iso(at(2026, 3, 7, 12))},
                refused=("quota_exhausted",),
            ),
        ),
        trap="a yearly count, or a fresh pool per request",
    ),
    Case(
        "pingan-visit-a-new-stay-brings-a-new-visit",
        clause(PINGAN, "一、8.2 使用次数", "保单有效期内，每次住院提供 1 次"),
        PINGAN_2026,
        (
            # given a visit during a February stay
            Submit(
                at(2026, 2, 10, 10),
                VISIT,
                {
                    "planned_at": iso(at(2026, 2, 12, 12)),
                    "hospitalisation": stay("2026-02-05", hospital="北京协和医院", region="110101"),
                },
            ),
            *delivered(at(2026, 2, 12, 13), "pingan_team"),
            # when the insured is admitted again and asks for a visit
            Submit(at(2026, 3, 2, 10), VISIT, VISIT_CONTEXT),
        ),
        trap="one visit a policy year",
    ),
    Case(
        "pingan-discharge-transport-one-night-is-one-hospital-day",
        clause(
            PINGAN,
            "一、9.2 申请条件 1）",
            "因疾病或者意外住院，住院天数大于 2 天（包含）",
        ),
        PINGAN_2026,
        (
            # given admitted on 3 March and to be discharged on 4 March: 算入不算出, 1 day
            Submit(
                at(2026, 3, 3, 10),
                TRANSPORT,
                {
                    "planned_at": iso(at(2026, 3, 4, 10)),
                    "hospitalisation": stay("2026-03-03", "2026-03-04", region="110101"),
                },
                refused=("hospitalisation_required",),
            ),
        ),
        trap="both ends counted (2 days); DOMAIN.md counts 算入不算出",
    ),
    Case(
        "pingan-discharge-transport-two-nights-are-two-hospital-days",
        clause(PINGAN, "一、9.2 申请条件 1）", "住院天数大于 2 天（包含）"),
        PINGAN_2026,
        (
            Submit(
                at(2026, 3, 3, 10),
                TRANSPORT,
                {
                    "planned_at": iso(at(2026, 3, 4, 10)),
                    "hospitalisation": stay("2026-03-02", "2026-03-04", region="110101"),
                },
            ),
        ),
        trap="'大于 2 天' read as strictly more than 2",
    ),
    # === 平安 出院交通: tiers by road distance ("以最短实际交通行驶路线为准") ==================
    Case(
        "pingan-discharge-transport-road-200-km-is-short-haul",
        clause(
            PINGAN,
            "一、9.4 服务内容",
            "客户家庭常住地距住院医院单程距离（以最短实际交通行驶路线为准）",
            "在 200 公里以内（含）",
        ),
        PINGAN_SUZHOU,
        (
            Check(
                at(2026, 3, 2, 10),
                TRANSPORT,
                {
                    **TRANSPORT_CONTEXT,
                    "hospitalisation": stay("2026-02-25", "2026-03-05", region="310101"),
                    "road_distance_km": "200",
                },
                tier="short_haul",
            ),
        ),
        trap="200 read as exclusive",
    ),
    Case(
        "pingan-discharge-transport-road-230-km-is-long-haul-whatever-the-straight-line",
        clause(
            PINGAN,
            "一、9.4 服务内容",
            "（以最短实际交通行驶路线为准）",
            "在 200 公里以上时，承担客户及一名家属同时返回客户（被保人）常住地的火车票或飞机票",
        ),
        PINGAN_SUZHOU,
        (
            # given home in 苏州, hospital in 上海 (about 85 km as the crow flies) and a road
            # distance of 230 km assessed for this trip
            Check(
                at(2026, 3, 2, 10),
                TRANSPORT,
                {
                    **TRANSPORT_CONTEXT,
                    "hospitalisation": stay("2026-02-25", "2026-03-05", region="310101"),
                    "road_distance_km": "230",
                },
                tier="long_haul",
            ),
        ),
        trap="the straight line between the cities used instead of the road",
    ),
    Case(
        "pingan-discharge-transport-a-straight-line-over-200-km-proves-long-haul",
        clause(PINGAN, "一、9.4 服务内容", "（以最短实际交通行驶路线为准）", "在 200 公里以上时"),
        PINGAN_2026,
        (
            # given home in 上海 and hospital in 北京 (over 1000 km in a straight line)
            Check(at(2026, 3, 2, 10), TRANSPORT, TRANSPORT_CONTEXT, tier="long_haul"),
        ),
        trap="no tier without a road distance, though no road is shorter than the line",
    ),
    Case(
        "pingan-discharge-transport-a-straight-line-under-200-km-proves-nothing",
        clause(
            PINGAN, "一、9.4 服务内容", "（以最短实际交通行驶路线为准）", "在 200 公里以内（含）"
        ),
        PINGAN_SUZHOU,
        (
            # given home in 苏州, hospital in 上海, no road distance known yet
            Check(
                at(2026, 3, 2, 10),
                TRANSPORT,
                {
                    **TRANSPORT_CONTEXT,
                    "hospitalisation": stay("2026-02-25", "2026-03-05", region="310101"),
                },
                outcome=None,
                tier="to_be_confirmed",  # 待核实行驶距离: the road may be longer than 200 km
            ),
        ),
        trap="short haul promised from the straight line",
    ),
    # === 小康 出院交通安排及陪护: 12 h in the service section, 24 h in 六、2 ==================
    Case(
        "xiaokang-transport-cancel-exactly-12-hours-before-the-car-is-free",
        clause(
            XIAOKANG,
            "四、（一）3.1 注意事项 d.；3.2 g.",
            "需至少距离实际用车时间提前 12个小时联系服务机构",
            "服务对象因主观原因未能提前 12 小时取消或变更已预约的服务，视为服务已使用",
        ),
        XIAOKANG_2026,
        (
            Submit(at(2026, 3, 2, 10), XK_TRANSPORT, XK_CONTEXT),
            *booked(at(2026, 3, 2, 11), "fuli", XK_CAR_AT),
            cancel(at(2026, 3, 4, 22)),
            Quota("released"),
        ),
        trap="'至少提前 12 小时' read as exclusive",
    ),
    Case(
        "xiaokang-transport-cancel-a-minute-inside-12-hours-is-used",
        clause(
            XIAOKANG,
            "四、（一）3.2 g.",
            "服务对象因主观原因未能提前 12 小时取消或变更已预约的服务，视为服务已使用",
        ),
        XIAOKANG_2026,
        (
            Submit(at(2026, 3, 2, 10), XK_TRANSPORT, XK_CONTEXT),
            *booked(at(2026, 3, 2, 11), "fuli", XK_CAR_AT),
            cancel(at(2026, 3, 4, 22, 1)),
            Quota("used"),
        ),
        trap="cancellation never deducts",
    ),
    Case(
        "xiaokang-transport-cancel-13-hours-before-is-free-the-service-section-wins",
        clause(
            XIAOKANG,
            "四、（一）3.2 g.；六、2、附约和计次",
            "服务对象因主观原因未能提前 12 小时取消或变更已预约的服务，视为服务已使用",
            "如被保险人临时取消服务，需要提前 24 小时通知服务公司取",
        ),
        XIAOKANG_2026,
        (
            Submit(at(2026, 3, 2, 10), XK_TRANSPORT, XK_CONTEXT),
            *booked(at(2026, 3, 2, 11), "fuli", XK_CAR_AT),
            cancel(at(2026, 3, 4, 21)),
            Quota("released"),
        ),
        trap="the general 24 h of 六、2 applied over the service's own 12 h",
    ),
    Case(
        "xiaokang-transport-late-cancel-because-the-discharge-moved-is-not-used",
        clause(
            XIAOKANG,
            "四、（一）3.1 注意事项 d.；3.2 g.",
            "服务对象出院时间发生变化时，需至少距离实际用车时间提前 12个小时联系服务机构",
            "服务对象因主观原因未能提前 12 小时取消或变更已预约的服务，视为服务已使用",
            "服务对象因客观原因未能提前 12小时取消或变更已预约的服务，服务机构将尽力提供服务",
        ),
        XIAOKANG_2026,
        (
            Submit(at(2026, 3, 2, 10), XK_TRANSPORT, XK_CONTEXT),
            *booked(at(2026, 3, 2, 11), "fuli", XK_CAR_AT),
            # when the ward postpones the discharge at 06:00 for a car at 10:00
            Event(
                at(2026, 3, 5, 6),
                "cancel",
                {"reason": "医院通知出院日期推迟", "cause": "discharge_changed"},
            ),
            # then only a 主观原因 late cancellation is used: this one is returned
            Quota("released"),
        ),
        trap="every late cancellation deducted, whatever its cause",
    ),
    # === 中宏 DMM 特定疾病住院护工: "3 个工作日" across National Day =========================
    Case(
        "dmm-carer-three-working-days-end-on-the-make-up-saturday",
        clause(MANULIFE_DMM, "八、（三）服务标准", "审核通过后 3 个工作日内安排护工"),
        DMM_2025,
        (
            Submit(
                at(2025, 9, 30, 9),
                DMM_CARER,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "hospitalisation": stay("2025-09-29", region="310101"),
                    "amount": "10",
                },
            ),
            # when approved on 30 September 2025
            Event(at(2025, 9, 30, 10), "approve"),
            # then 9 and 10 October and the make-up Saturday 11 October are the three
            Due("carer_arranged", at(2025, 10, 11, 23, 59, 59, 999999)),
        ),
        trap="holidays ignored (3 October) or make-up days ignored (13 October)",
    ),
    Case(
        "dmm-carer-three-working-days-skip-an-ordinary-sunday",
        clause(
            MANULIFE_DMM,
            "八、（三）服务标准",
            "7*24 小时, 国家法定节假日除外。审核通过后 3 个工作日内安排护工",
        ),
        DMM_2025,
        (
            Submit(
                at(2025, 10, 10, 9),
                DMM_CARER,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "hospitalisation": stay("2025-10-09", region="310101"),
                    "amount": "10",
                },
            ),
            # when approved on Friday 10 October 2025
            Event(at(2025, 10, 10, 10), "approve"),
            # then Saturday 11 (调休上班), Monday 13, Tuesday 14: Sunday 12 is no working day
            Due("carer_arranged", at(2025, 10, 14, 23, 59, 59, 999999)),
        ),
        trap="the 7×24 service hours' open days used as working days (13 October)",
    ),
    # === 中宏 DMM 心理咨询热线: 6 a year for the insured and the family together =============
    Case(
        "dmm-psych-six-a-year-shared-with-the-family",
        clause(MANULIFE_DMM, "四、（一）服务内容", "被服务人及其家属每个保单年度可享有本服务 6 次"),
        DMM_2025,
        (
            *(
                Submit(at(2025, 8, 1 + day, 10), PSYCH, {"diagnosis": DMM_DIAGNOSIS})
                for day in range(5)
            ),
            # given the insured's wife had the sixth call
            Submit(at(2025, 8, 6, 10), PSYCH, {"diagnosis": DMM_DIAGNOSIS}, recipient="M2"),
            # when the insured asks for a seventh
            Submit(
                at(2025, 8, 7, 10),
                PSYCH,
                {"diagnosis": DMM_DIAGNOSIS},
                refused=("quota_exhausted",),
            ),
        ),
        trap="6 for the insured and 6 more for each relative",
    ),
    Case(
        "dmm-psych-booking-over-the-spring-festival",
        clause(MANULIFE_DMM, "四、（三）服务标准", "1-2 个工作日内完成心理专家预约"),
        DMM_2026,
        (
            # when the request comes in on Friday 13 February 2026
            Submit(
                at(2026, 2, 13, 10),
                PSYCH,
                {"diagnosis": {"confirmed": True, "diagnosed_on": "2026-02-05"}},
            ),
            # then the make-up Saturday 14 February is day 1, 24 February day 2
            Due("expert_booked", at(2026, 2, 24, 23, 59, 59, 999999)),
        ),
        trap="make-up day skipped (25 February) or the festival ignored (17 February)",
    ),
    # === 中宏 DMM 住院押金垫付: a natural day is not a working day ===========================
    Case(
        "dmm-deposit-records-in-one-natural-day-over-the-holiday",
        clause(MANULIFE_DMM, "二、（三）服务标准", "1 个自然日内完成资料收集"),
        DMM_2025,
        (
            Submit(
                at(2025, 9, 30, 10),
                DEPOSIT,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "hospitalisation": stay(
                        "2025-09-30", hospital="上海市第一人民医院", region="310101"
                    ),
                },
            ),
            Due("records_collected", at(2025, 10, 1, 10)),
        ),
        trap="every SLA counted in working days (9 October)",
    ),
    # === 中宏 DMM yearly rights: the anniversary and no carry-over ============================
    Case(
        "dmm-yearly-right-renews-on-the-anniversary",
        clause(
            MANULIFE_DMM,
            "五、（一）服务内容",
            "在服务有效期内，被服务人每个保单年度可享有本服务 1 次",
        ),
        DMM_TWO_YEARS,
        (
            # given the first policy year's opinion used on its last day, 28 February 2026
            Submit(
                at(2026, 2, 28, 10),
                GLOBAL_OPINION,
                {"diagnosis": {"confirmed": True, "diagnosed_on": "2025-05-01"}},
            ),
            *delivered(at(2026, 2, 28, 20), "hengyu"),
            # when the insured asks again half an hour into the second policy year
            Submit(
                at(2026, 3, 1, 0, 30),
                GLOBAL_OPINION,
                {"diagnosis": {"confirmed": True, "diagnosed_on": "2025-05-01"}},
            ),
        ),
        trap="calendar years, or 365 days from the use",
    ),
    Case(
        "dmm-an-unused-yearly-right-does-not-carry-over",
        clause(MANULIFE_DMM, "五、（一）服务内容", "被服务人每个保单年度可享有本服务 1 次"),
        DMM_TWO_YEARS,
        (
            # given nothing used in the first policy year, one use in the second
            Submit(
                at(2026, 3, 2, 10),
                GLOBAL_OPINION,
                {"diagnosis": {"confirmed": True, "diagnosed_on": "2025-05-01"}},
            ),
            *delivered(at(2026, 3, 5, 10), "hengyu"),
            # when the insured asks for a second one that year
            Submit(
                at(2026, 3, 10, 10),
                GLOBAL_OPINION,
                {"diagnosis": {"confirmed": True, "diagnosed_on": "2025-05-01"}},
                refused=("quota_exhausted",),
            ),
        ),
        trap="the unused first-year right carried over",
    ),
    # === 中宏 DMM 特定疾病院后康复护理: windows opened by the start of the service ===========
    Case(
        "dmm-remote-followup-unlimited-within-180-days",
        clause(
            MANULIFE_DMM,
            "九、（一）服务内容",
            "院后远程居家康护跟进及指导",
            "不限次（服务启动后180天内）",
        ),
        DMM_2025,
        (
            Submit(at(2025, 7, 21, 10), REMOTE, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 21, 11), "fuli"),
            Submit(at(2025, 7, 22, 10), REMOTE, BUNDLE_CONTEXT),
            Submit(at(2025, 10, 21, 10), REMOTE, BUNDLE_CONTEXT),
        ),
        trap="'不限次' capped at one a year like the bundle",
    ),
    Case(
        "dmm-remote-followup-lapses-after-180-days",
        clause(
            MANULIFE_DMM,
            "九、（一）服务内容；（五）注意事项",
            "不限次（服务启动后180天内）",
            "若被服务人在服务启动后规定时限内未使用完相应的服务权益，则剩余的服务权益自动失效",
        ),
        DMM_2025,
        (
            # given follow-up started on 21 July 2025
            Submit(at(2025, 7, 21, 10), REMOTE, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 21, 11), "fuli"),
            # when the insured asks on 20 January 2026, day 184, same policy year
            Submit(at(2026, 1, 20, 10), REMOTE, BUNDLE_CONTEXT, refused=("outside_window",)),
        ),
        trap="an unlimited benefit keeps no window: a new one opens on any later use",
    ),
    Case(
        "dmm-remote-followup-window-opens-with-its-own-first-use",
        clause(
            MANULIFE_DMM,
            "九、（一）服务内容；（五）注意事项",
            "不限次（服务启动后180天内）",
            "若被服务人在服务启动后规定时限内未使用完相应的服务权益，则剩余的服务权益自动失效",
        ),
        DMM_2025,
        (
            # given the bundle started with the discharge transport on 21 July 2025
            Submit(at(2025, 7, 19, 10), BUNDLE_TRANSPORT, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 20, 15), "fuli"),
            # when remote follow-up is first asked for on 21 January 2026, day 185 of the bundle:
            # "服务启动" is read as the component's own first use (issue 12's decision, noted
            # beside the terms in the catalogue), so its 180 days start now
            Submit(at(2026, 1, 21, 10), REMOTE, BUNDLE_CONTEXT),
        ),
        trap="the bundle's start taken for the component's: the window closed before it opened",
    ),
    Case(
        "dmm-home-guidance-three-visits",
        clause(MANULIFE_DMM, "九、（一）服务内容", "每月1次，为期3个月", "3次/年"),
        DMM_2025,
        (
            Submit(at(2025, 7, 21, 10), GUIDE, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 22, 10), "fuli"),
            Handover(at(2025, 7, 22, 11), "fuli"),
            Submit(at(2025, 7, 25, 10), HOME_GUIDANCE, BUNDLE_CONTEXT),
            Submit(at(2025, 8, 25, 10), HOME_GUIDANCE, BUNDLE_CONTEXT),
            Submit(at(2025, 9, 25, 10), HOME_GUIDANCE, BUNDLE_CONTEXT),
            Submit(
                at(2025, 10, 5, 10), HOME_GUIDANCE, BUNDLE_CONTEXT, refused=("quota_exhausted",)
            ),
        ),
        trap="unlimited inside the window",
    ),
    Case(
        "dmm-home-guidance-lapses-after-three-months",
        clause(
            MANULIFE_DMM,
            "九、（一）服务内容；（五）注意事项",
            "每月1次，为期3个月",
            "若被服务人在服务启动后规定时限内未使用完相应的服务权益，则剩余的服务权益自动失效",
        ),
        DMM_2025,
        (
            Submit(at(2025, 7, 21, 10), GUIDE, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 22, 10), "fuli"),
            Handover(at(2025, 7, 22, 11), "fuli"),
            Submit(at(2025, 7, 25, 10), HOME_GUIDANCE, BUNDLE_CONTEXT),
            *delivered(at(2025, 7, 28, 10), "fuli"),
            # when the second visit is asked for on 10 November, past the three months
            Submit(
                at(2025, 11, 10, 10), HOME_GUIDANCE, BUNDLE_CONTEXT, refused=("outside_window",)
            ),
        ),
        trap="a new three-month window (and three more visits) opened after the first lapsed",
    ),
    Case(
        "dmm-home-guidance-needs-the-guide-delivered-first",
        clause(
            MANULIFE_DMM,
            "九、（一）服务内容",
            "院后居家上门康复指导-根据《居家康护指导书》，专业护士定期主动上门为患者提供康复指导",
        ),
        DMM_2025,
        (
            # given the guide is asked for but not yet written
            Submit(at(2025, 7, 21, 10), GUIDE, BUNDLE_CONTEXT),
            Submit(
                at(2025, 7, 22, 10),
                HOME_GUIDANCE,
                BUNDLE_CONTEXT,
                refused=("prerequisite_missing",),
            ),
        ),
        trap="a requested guide taken for a delivered one",
    ),
    # === 异地就医补贴: 10 working days after the visit, caps per category =====================
    Case(
        "dmm-travel-subsidy-the-tenth-working-day-after-national-day",
        clause(
            MANULIFE_DMM, "三、（五）3. 2)", "被服务人需在就诊后 10 个工作日内发起异地就医补贴申请"
        ),
        DMM_2025_AWAY,
        (
            # given a visit on Friday 26 September 2025: the working days after it are 28
            # (make-up Sunday), 29, 30 September, 9, 10, 11 (make-up Saturday), 13–16 October
            Submit(
                at(2025, 10, 16, 20),
                TRAVEL,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "category": "out_of_province",
                    "amount": "1000",
                    "planned_at": iso(at(2025, 9, 26, 10)),
                },
            ),
        ),
        trap="holidays ignored (deadline 10 October)",
    ),
    Case(
        "dmm-travel-subsidy-the-eleventh-working-day-is-late",
        clause(
            MANULIFE_DMM, "三、（五）3. 2)", "被服务人需在就诊后 10 个工作日内发起异地就医补贴申请"
        ),
        DMM_2025_AWAY,
        (
            Submit(
                at(2025, 10, 17, 9),
                TRAVEL,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "category": "out_of_province",
                    "amount": "1000",
                    "planned_at": iso(at(2025, 9, 26, 10)),
                },
                refused=("filing_deadline",),
            ),
        ),
        trap="make-up days ignored (deadline 20 October)",
    ),
    Case(
        "dmm-travel-subsidy-caps-per-category",
        clause(MANULIFE_DMM, "三、（一）异地就医补贴", "省内最高 2000 元/年，省外最高 5000 元/年"),
        DMM_2025_AWAY,
        (
            Submit(
                at(2025, 8, 5, 10),
                TRAVEL,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "category": "in_province",
                    "amount": "2000",
                    "planned_at": iso(at(2025, 8, 1, 10)),
                },
            ),
            Submit(
                at(2025, 8, 6, 10),
                TRAVEL,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "category": "in_province",
                    "amount": "100",
                    "planned_at": iso(at(2025, 8, 4, 10)),
                },
                refused=("quota_exhausted",),
            ),
            Submit(
                at(2025, 8, 7, 10),
                TRAVEL,
                {
                    "diagnosis": DMM_DIAGNOSIS,
                    "region": "310101",
                    "category": "out_of_province",
                    "amount": "5000",
                    "planned_at": iso(at(2025, 8, 4, 10)),
                },
            ),
        ),
        trap="one 7000 CNY pot, or 省外 spent from 省内",
    ),
    Case(
        "hywj-travel-subsidy-the-tenth-working-day-after-the-spring-festival",
        clause(
            MANULIFE_HYWJ,
            "一、(四) 注意事项 6. 2)",
            "被服务人需在就诊后 10 个工作日内发起补贴申请。门诊以就诊日起 10 个工作日计算",
        ),
        HYWJ_2026_AWAY,
        (
            # given a visit on Friday 13 February 2026: the working days after it are 14
            # (make-up Saturday), 24–27, 28 (make-up Saturday) February, 2–5 March
            Submit(
                at(2026, 3, 5, 20),
                HYWJ_TRAVEL,
                {
                    "diagnosis": HYWJ_DIAGNOSIS,
                    "region": "310101",
                    "category": "out_of_province",
                    "amount": "1000",
                    "planned_at": iso(at(2026, 2, 13, 10)),
                },
            ),
        ),
        trap="make-up days ignored (the deadline is later) — or the festival ignored",
    ),
    Case(
        "hywj-travel-subsidy-the-eleventh-working-day-is-late",
        clause(
            MANULIFE_HYWJ,
            "一、(四) 注意事项 6. 2)",
            "被服务人需在就诊后 10 个工作日内发起补贴申请。门诊以就诊日起 10 个工作日计算",
        ),
        HYWJ_2026_AWAY,
        (
            Submit(
                at(2026, 3, 6, 9),
                HYWJ_TRAVEL,
                {
                    "diagnosis": HYWJ_DIAGNOSIS,
                    "region": "310101",
                    "category": "out_of_province",
                    "amount": "1000",
                    "planned_at": iso(at(2026, 2, 13, 10)),
                },
                refused=("filing_deadline",),
            ),
        ),
        trap="make-up Saturdays not counted (deadline 9 March)",
    ),
]


@pytest.fixture
def hotline() -> Hotline:
    return Hotline()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_scenario(case: Case, hotline: Hotline):
    # given the case's policy, when the hotline plays its calls at their moments,
    # then every answer is the handbook's (asserted step by step in play)
    play(case, hotline)


def test_the_table_is_wide_and_every_id_is_unique():
    ids = [case.id for case in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


def test_every_case_quotes_its_handbook():
    """The words a case cites are the handbook's own (whitespace and table rulers aside)."""
    if not SEEDS.is_dir():
        pytest.skip("shared/seeds is not beside the checkout")
    texts = {p.name: squeeze(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    for case in CASES:
        seed = texts[case.clause.seed]
        for words in case.clause.words:
            assert squeeze(words) in seed, (case.id, words)
