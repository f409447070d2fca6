"""The catalogue refuses what the engine could not follow: an SLA milestone that says
neither which event meets it nor that it is not tracked, an alternative group no choice can
be made in, and a follow-up from an event follow-ups are not scheduled from. ``load_catalogue``
stays all-or-nothing: one such problem and nothing is written."""

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from benefits.catalogue.files import CATALOGUE_DIR
from benefits.models import Benefit
from benefits.terms.benefit_terms import TermsError, parse_terms


@pytest.fixture
def catalogue_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, target)
    return target


def edit(directory: Path, product: str, old: str, new: str, *, after: str) -> None:
    """Replace the first ``old`` after the line ``after`` in the product's file."""
    path = directory / "products" / f"{product}.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(after)
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")


def load_refused(directory: Path) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("load_catalogue", source=directory)
    return str(refused.value)


@pytest.mark.django_db
def test_load_catalogue_refuses_a_milestone_no_event_meets_and_writes_nothing(
    catalogue, catalogue_copy
):
    # given 平安 门诊协助 1.3 2）"2 个工作小时内联系客户" without met_by, a valid edit elsewhere
    edit(
        catalogue_copy,
        "pingan.health",
        "          met_by: contacted\n",
        "",
        after="- code: pingan.health.outpatient_assist",
    )
    edit(
        catalogue_copy,
        "xiaokang.rsyj",
        "name: ",
        "name: 改过的名称",
        after="- code: xiaokang.rsyj.rehab_guide",
    )
    before = Benefit.objects.get(code="xiaokang.rsyj.rehab_guide").name

    # when the catalogue is loaded
    message = load_refused(catalogue_copy)

    # then the benefit and the milestone are named, in Chinese, and nothing was written
    assert "未写入任何数据" in message
    assert "pingan.health.outpatient_assist：sla.0：SLA 节点“contact”：未写明由哪个事件达成" in (
        message
    )
    assert "tracked: false" in message
    assert Benefit.objects.get(code="xiaokang.rsyj.rehab_guide").name == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "starts_on",
    [
        "approved",  # a request event, but follow-ups are only scheduled after completion
        "finished",  # no such event
    ],
)
def test_load_catalogue_refuses_a_follow_up_from_an_event_it_cannot_schedule(
    catalogue, catalogue_copy, starts_on
):
    # given 平安 康复随访 10.3 6.2）"最长持续 3 个月，且共计完成 3次" from another event
    edit(
        catalogue_copy,
        "pingan.health",
        "starts_on: completed",
        f"starts_on: {starts_on}",
        after="follow_ups:",
    )

    message = load_refused(catalogue_copy)

    assert (
        f"pingan.health.rehab_followup：follow_ups.0：回访“rehab_check_in”："
        f"起算事件“{starts_on}”无法安排（回访只能自 completed 起算）"
    ) in message


def test_the_catalogue_declares_its_only_untracked_milestone_with_a_reason():
    # 中宏团体 三、(三)6. "收集理赔资料后 3 日内寄出": starts after completion, no event reports it
    from benefits.catalogue.files import read_catalogue

    untracked = [
        (b.code, m.code, m.note)
        for b in read_catalogue().benefits
        for m in b.terms.sla
        if not m.tracked
    ]
    assert [(code, milestone) for code, milestone, _ in untracked] == [
        ("manulife.hywj.inpatient_advance", "claim_documents_sent")
    ]
    assert "不跟踪" in untracked[0][2]


# --- the same refusals in the terms themselves (admin form, import, files) --------------------

BASE = {
    "summary": "测试",
    "quota": {"unit": "unlimited"},
    "service_hours": {"days": "working_days", "start": "09:00", "end": "21:00"},
}
HOUR = {"amount": 1, "unit": "hours", "clock": "working"}
DAY_HOURS = {"days": "every_day", "start": "09:00", "end": "21:00"}


def milestone(code: str, **fields):
    return {"code": code, "label": code, "starts_on": "submitted", "due": HOUR, **fields}


def follow_up(**fields):
    return {
        "code": "visit",
        "label": "回访",
        "starts_on": "completed",
        "every": {"amount": 1, "unit": "months"},
        "count": 3,
        "clause": "c",
        **fields,
    }


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (
            {"sla": [milestone("contact")]},
            "SLA 节点“contact”：未写明由哪个事件达成（met_by",
        ),
        (
            {"sla": [milestone("contact", met_by="launched")]},
            "sla.0.met_by：取值不在允许范围内",
        ),
        (
            {"sla": [milestone("sent", tracked=False)]},
            "SLA 节点“sent”：不跟踪（tracked: false）须在 note 中说明原因",
        ),
        (
            {"sla": [milestone("sent", tracked=False, met_by="completed", note="无事件")]},
            "不跟踪（tracked: false）的节点不能再写 met_by",
        ),
        (
            {"sla": [milestone("booked", starts_on="scheduled", met_by="contacted")]},
            "SLA 节点“booked”：达成事件 contacted 不在起算事件 scheduled 之后",
        ),
        (
            {
                "sla": [
                    milestone(
                        "day", met_by="contacted", alternative={"group": "g", "choice": "ordinary"}
                    )
                ]
            },
            "SLA 备选组“g”只有一个节点（day）",
        ),
        (
            {
                "sla": [
                    milestone(
                        "a", met_by="contacted", alternative={"group": "g", "choice": "ordinary"}
                    ),
                    milestone(
                        "b",
                        met_by="contacted",
                        alternative={"group": "g", "choice": "most_lenient"},
                    ),
                ]
            },
            "SLA 备选组“g”的节点（a、b）选择方式（choice）不一致",
        ),
        (
            {
                "sla": [
                    milestone(
                        "a", met_by="scheduled", alternative={"group": "g", "choice": "ordinary"}
                    ),
                    milestone(
                        "b",
                        starts_on="approved",
                        met_by="scheduled",
                        alternative={"group": "g", "choice": "ordinary"},
                    ),
                ]
            },
            "SLA 备选组“g”的节点（a、b）起算事件不同",
        ),
        (
            {
                "sla": [
                    milestone(
                        "day",
                        met_by="contacted",
                        alternative={"group": "g", "choice": "inside_hours"},
                    ),
                    milestone(
                        "night",
                        met_by="contacted",
                        business_hours=DAY_HOURS,
                        alternative={"group": "g", "choice": "inside_hours"},
                    ),
                ]
            },
            "day 须写明自己的 business_hours",
        ),
        (
            {"follow_ups": [follow_up(every={"amount": 1, "unit": "days", "clock": "working"})]},
            "回访“visit”：间隔须为整数个自然日、周、月或年",
        ),
        (
            # refused already as a duration: no calendar month has a fraction
            {"follow_ups": [follow_up(every={"amount": "1.5", "unit": "months"})]},
            "以月或年计的时长须为整数",
        ),
        ({"follow_ups": [follow_up(), follow_up()]}, "回访代码重复"),
    ],
)
def test_terms_refuse_what_the_engine_cannot_follow(terms, message):
    with pytest.raises(TermsError) as caught:
        parse_terms({**BASE, **terms})
    assert message in str(caught.value)


def test_a_day_night_pair_with_the_day_hours_on_the_first_variant_is_accepted():
    terms = parse_terms(
        {
            **BASE,
            "sla": [
                milestone(
                    "day",
                    met_by="contacted",
                    business_hours=DAY_HOURS,
                    alternative={"group": "callback", "choice": "inside_hours"},
                ),
                milestone(
                    "night",
                    met_by="contacted",
                    alternative={"group": "callback", "choice": "inside_hours"},
                ),
                milestone("sent", tracked=False, note="服务完成后无事件报告寄出"),
            ],
            "follow_ups": [follow_up(until_policy_expiry=True)],
        }
    )
    assert [m.alternative.group for m in terms.sla[:2] if m.alternative] == ["callback"] * 2
    assert terms.follow_ups[0].count == 3
