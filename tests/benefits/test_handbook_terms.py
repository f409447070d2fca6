"""The loaded terms say what the handbooks print. Each row names the clause it checks."""

from decimal import Decimal

import pytest

from benefits.models import Benefit
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.display import describe_terms
from benefits.terms.timing import Duration


def terms(code: str) -> BenefitTerms:
    return Benefit.objects.get(code=code).parsed_terms


def rules(code: str, kind: str) -> list:
    return [r for r in terms(code).rules if r.kind == kind]


def rule(code: str, kind: str):
    (found,) = rules(code, kind)
    return found


def is_(duration: Duration | None, amount: int, unit: str, clock: str = "natural") -> bool:
    return (
        duration is not None
        and duration.amount == Decimal(amount)
        and duration.unit == unit
        and duration.clock == clock
    )


def has_milestone(code: str, amount: int, unit: str, clock: str, target: str = "deadline") -> bool:
    return any(is_(m.due, amount, unit, clock) and m.target == target for m in terms(code).sla)


def carer_limits(code: str) -> set[tuple[str, Decimal]]:
    """The main quota and the second limits as (unit, amount); requests count as times."""
    quota = terms(code).quota
    limits = {(lim.kind, lim.amount) for lim in quota.limits if lim.period == "policy_year"}
    main = ("requests" if quota.unit == "times" else quota.unit, quota.amount)
    return limits | {main}


CASES = [
    # --- 平安健康 (003) ---
    (
        "003 3.2 服务时效 1）客户需提前48小时提交服务申请",
        lambda: is_(rule("pingan.health.escort", "lead_time").min_lead, 48, "hours"),
    ),
    (
        "003 3.2 服务时长 不超过4小时；使用次数 每个保险期间1次；服务共享规则",
        lambda: (
            is_(terms("pingan.health.escort").quota.max_per_use, 4, "hours")
            and terms("pingan.health.escort").quota.amount == 1
            and terms("pingan.health.escort").quota.sharing == "family_pool"
        ),
    ),
    (
        "003 1.3 服务专员2个工作小时内联系客户，24个工作小时内反馈；1.2 4个工作日内完成预约",
        lambda: (
            has_milestone("pingan.health.outpatient_assist", 2, "hours", "working")
            and has_milestone("pingan.health.outpatient_assist", 24, "hours", "working")
            and has_milestone("pingan.health.outpatient_assist", 4, "days", "working")
        ),
    ),
    (
        "003 1.4 工作时间是工作日9:00-21:00",
        lambda: (
            terms("pingan.health.outpatient_assist").service_hours.start == "09:00"
            and terms("pingan.health.outpatient_assist").service_hours.end == "21:00"
        ),
    ),
    (
        "003 服务规则 等待期30日（含第30天），转保无服务等待期",
        lambda: (
            rule("pingan.health.escort", "waiting_period").days == 30
            and rule("pingan.health.escort", "waiting_period").inclusive
            and rule("pingan.health.escort", "waiting_period").waived_on_transfer
        ),
    ),
    (
        "003 服务规则 活力GO服务无等待期",
        lambda: rules("pingan.health.vitality_go", "waiting_period") == [],
    ),
    (
        "003 4.4 24小时以上取消/修改预约，最多2次；4.1 仅限被保险人本人使用",
        lambda: (
            is_(terms("pingan.health.tumor_mdt").cancellation.free_before, 24, "hours")
            and terms("pingan.health.tumor_mdt").cancellation.max_changes == 2
            and terms("pingan.health.tumor_mdt").quota.sharing == "insured"
        ),
    ),
    (
        "003 4.2 专案服务时间为工作日9:00~18:00",
        lambda: terms("pingan.health.tumor_mdt").service_hours.end == "18:00",
    ),
    (
        "003 住院探视/出院交通/康复随访 每次住院1次",
        lambda: all(
            terms(f"pingan.health.{s}").quota.period == "per_hospitalisation"
            for s in ("hospital_visit", "discharge_transport", "rehab_followup")
        ),
    ),
    # --- 小康人寿 (000) ---
    (
        "000 三、服务套餐 院后居家上门康护服务3次/年；（三）先完成康护指导书",
        lambda: (
            terms("xiaokang.rsyj.home_rehab_visit").quota.amount == 3
            and [p.benefit for p in terms("xiaokang.rsyj.home_rehab_visit").prerequisites]
            == ["xiaokang.rsyj.rehab_guide"]
        ),
    ),
    (
        "000 （一）3.2 g 未能提前12小时取消或变更，视为服务已使用",
        lambda: is_(
            terms("xiaokang.rsyj.discharge_transport_escort").cancellation.free_before, 12, "hours"
        ),
    ),
    (
        "000 （一）1.1 单程距离200公里以内（含）/以上",
        lambda: (
            {(t.max_km, t.over_km) for t in terms("xiaokang.rsyj.discharge_transport_escort").tiers}
            == {(Decimal(200), None), (None, Decimal(200))}
        ),
    ),
    (
        "000 三、服务套餐 远程康护跟踪1次/年，每次最长6个月",
        lambda: is_(terms("xiaokang.rsyj.remote_rehab_tracking").quota.max_per_use, 6, "months"),
    ),
    (
        "000 日常医学咨询 不限次",
        lambda: terms("xiaokang.rsyj.medical_consult").quota.unit == "unlimited",
    ),
    # --- 中宏 DMM (001) ---
    (
        "001 八、每个保单年度累计不超过30天，至多可以申请2次",
        lambda: {("days", 30), ("requests", 2)} <= carer_limits("manulife.dmm.inpatient_carer"),
    ),
    (
        "001 三、异地就医补贴 省内最高2000元/年，省外最高5000元/年",
        lambda: (
            {c.amount for c in terms("manulife.dmm.travel_subsidy").quota.category_caps}
            == {Decimal(2000), Decimal(5000)}
        ),
    ),
    (
        "001 三、（五）3.2）就诊后10个工作日内发起异地就医补贴申请",
        lambda: is_(
            rule("manulife.dmm.travel_subsidy", "filing_deadline").deadlines[0].within,
            10,
            "days",
            "working",
        ),
    ),
    (
        "001 四、被服务人及其家属每个保单年度可享有本服务6次",
        lambda: (
            terms("manulife.dmm.psych_hotline").quota.amount == 6
            and terms("manulife.dmm.psych_hotline").quota.sharing == "insured_and_family"
        ),
    ),
    (
        "001 九、院后远程居家康护跟进及指导 不限次（服务启动后180天内）",
        lambda: (
            terms("manulife.dmm.post_discharge_care.remote_followup").quota.period
            == "window_after_start"
            and is_(
                terms("manulife.dmm.post_discharge_care.remote_followup").quota.window, 180, "days"
            )
        ),
    ),
    (
        "001 六、（五）不适合的情况：血液系统肿瘤、食管癌、胃癌、结直肠癌等",
        lambda: len(rule("manulife.dmm.proton_heavy_ion", "condition_unsuitable").conditions) >= 7,
    ),
    # --- 安盛天平 (002) ---
    (
        "002 博鳌 预约成功即视为已使用",
        lambda: (
            terms("axa.zysh.special_drug_boao").cancellation.counted_as_used_from is not None
            and terms("axa.zysh.special_drug_boao").quota.amount == 1
        ),
    ),
    (
        "002 博鳌 各门诊提前预约时间（2天/4天/1周/15天）",
        lambda: (
            # one lead_time per clinic type (普通/专家门诊), each per hospital
            {
                (tuple(r.only_for), s.site, s.min_lead.amount, s.min_lead.unit)
                for r in rules("axa.zysh.special_drug_boao", "lead_time")
                for s in r.per_site
            }
            == {
                (("ordinary_clinic",), "博鳌恒大国际医院", Decimal(2), "days"),
                (("ordinary_clinic",), "博鳌超级医院", Decimal(1), "weeks"),
                (("expert_clinic",), "博鳌恒大国际医院", Decimal(4), "days"),
                (("expert_clinic",), "博鳌超级医院", Decimal(15), "days"),
            }
        ),
    ),
    (
        "002 特定医疗器械直付 服务次数1次（整个保单期间）",
        lambda: (
            terms("axa.zysh.device_direct_pay").quota.period == "whole_policy"
            and terms("axa.zysh.device_direct_pay").quota.amount == 1
        ),
    ),
    (
        "002 慈善赠药 仅限中国大陆公民",
        lambda: rule("axa.zysh.charity_drug", "citizenship").mainland_only,
    ),
    (
        "002 院外特药 购药前至少4天申请",
        lambda: is_(rule("axa.zysh.special_drug_domestic", "lead_time").min_lead, 4, "days"),
    ),
    # --- 中宏团体 (004) ---
    (
        "004 四、儿童齿科 15周岁（含）以下",
        lambda: rule("manulife.hywj.kids_dental", "age").max_years == 15,
    ),
    (
        "004 四、儿童齿科 3选1",
        lambda: (
            len(terms("manulife.hywj.kids_dental").exclusive_choice.options) == 3
            and terms("manulife.hywj.kids_dental").exclusive_choice.choose == 1
        ),
    ),
    (
        "004 心理咨询 被服务人及其家属每年6次",
        lambda: (
            terms("manulife.hywj.psych_counselling").quota.amount == 6
            and terms("manulife.hywj.psych_counselling").quota.sharing == "insured_and_family"
        ),
    ),
    (
        "004 二、电话医生 客户9:00-21:00致电，5分钟内回电",
        lambda: has_milestone("manulife.hywj.phone_doctor", 5, "minutes", "working"),
    ),
    (
        "004 附件一 40种重大疾病",
        lambda: (
            rule("manulife.hywj.ci_outpatient", "condition_not_covered").disease_list
            == "manulife.hywj.critical_illnesses"
        ),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("clause", "check"), CASES, ids=[c[0][:40] for c in CASES])
def test_terms_match_the_handbook(clause, check):
    assert check(), clause


def documents(code: str) -> dict:
    return {d.code: d for d in terms(code).documents}


@pytest.mark.django_db
def test_the_genetic_test_report_is_asked_for_only_if_a_test_was_done():
    # 002 特定医疗器械直付 and its sister services: "如已进行基因检测，须提交基因检测报告"
    for code in (
        "axa.zysh.device_direct_pay",
        "axa.zysh.special_drug_domestic",
        "axa.zysh.special_drug_boao",
    ):
        report = documents(code)["genetic_test_report"]
        assert (report.required, report.when) == (False, "如已进行基因检测"), code
    described = dict(describe_terms(terms("axa.zysh.device_direct_pay")))
    assert any("基因检测报告（如有）（如已进行基因检测）" in line for line in described["所需资料"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    ["manulife.hywj.ci_admission", "manulife.hywj.ci_surgery", "manulife.hywj.ci_exam_expedite"],
)
def test_the_group_critical_illness_arrangements_ask_for_no_id_document(code):
    # 004 一、(四) asks to "准确提供就诊人及就医相关信息（如身份证…）", not to submit one
    assert "id_card" not in documents(code)
    assert "medical_records" in documents(code)


@pytest.mark.django_db
def test_xiaokang_cooling_off_length_comes_from_the_policy():
    # 000 "过犹豫期" prints no number of days
    for benefit in Benefit.objects.filter(code__startswith="xiaokang.rsyj."):
        (cooling_off,) = [r for r in benefit.parsed_terms.rules if r.kind == "cooling_off"]
        assert cooling_off.days is None, benefit.code
