"""SLA milestones: the promises a request carries, each started by one event and met by a
later one, and the groups of variants of one promise printed side by side."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from benefits.terms.timing import BusinessHours, Duration
from benefits.terms.vocabulary import (
    PROGRESS_EVENTS,
    AlternativeChoice,
    Clock,
    PauseEvent,
    ProgressEvent,
    RequestEvent,
    Slug,
    Strict,
    TimeUnit,
)


class SlaAlternative(Strict):
    """Membership of a milestone in a group of variants of one promise printed side by side
    (day/night call back, local/remote delivery, two sections that disagree). Only one
    variant of a group is measured: when the group's clocks start, ``choice`` keeps one and
    cancels the others. Variants are taken in the order ``sla`` lists them; the first is the
    ordinary (or daytime) one."""

    group: Slug
    choice: AlternativeChoice


class SlaMilestone(Strict):
    code: Slug
    label: str
    starts_on: RequestEvent
    # The progress event that fulfils the milestone (a later one fulfils it too). Required
    # unless ``tracked`` is false.
    met_by: ProgressEvent | None = None
    # False for a promise no event of the request reports (a document sent after completion):
    # the request does not carry it; ``note`` must say why.
    tracked: bool = True
    # None only with ``same_day``.
    due: Duration | None = None
    # "就诊、入院或出院当日": due at the end of the (Shanghai) day the clock starts, whatever
    # the hour; ``due`` is not given.
    same_day: bool = False
    # Lower bound of a printed range ("1-2个工作日"); ``due`` is the upper bound.
    due_from: Duration | None = None
    # "平均5-10个工作日" is a KPI averaged per vendor; the upper bound is the breach line.
    # "预计当日送达" is an estimate: measured for the KPI, never a breach. "最快12工作小时" is
    # the fastest the vendor can do ("fastest"): measured against it, never a breach either.
    target: Literal["deadline", "average", "estimate", "fastest"] = "deadline"
    # Events during which the clock stands still, from the pausing event to the next event
    # of the request (平安 住院垫付 "若涉及调查，调查时效不计入": ``investigating``; records
    # asked of the member: ``records_requested``). The deadline moves by the time paused.
    paused_by: list[PauseEvent] = []
    # "最晚次日达": due at the end of the day the duration reaches, not to the minute.
    due_end_of_day: bool = False
    business_hours: BusinessHours | None = None
    alternative: SlaAlternative | None = None
    note: str = ""
    clause: str = ""

    @property
    def clock(self) -> Clock:
        return self.due.clock if self.due else "natural"

    @property
    def unit(self) -> TimeUnit:
        return self.due.unit if self.due else "days"

    @model_validator(mode="after")
    def _trackable(self) -> SlaMilestone:
        where = f"SLA 节点“{self.code}”"
        if self.same_day == (self.due is not None):
            raise ValueError(
                f"{where}：须写时限 due，或写 same_day: true（当日完成），二者只能有一"
            )
        if self.same_day and (self.due_from is not None or self.due_end_of_day):
            raise ValueError(f"{where}：当日完成（same_day）不能再写 due_from 或 due_end_of_day")
        if not self.tracked:
            if self.met_by is not None:
                raise ValueError(f"{where}：不跟踪（tracked: false）的节点不能再写 met_by")
            if not self.note.strip():
                raise ValueError(f"{where}：不跟踪（tracked: false）须在 note 中说明原因")
            if self.alternative is not None:
                raise ValueError(f"{where}：不跟踪的节点不能作为备选（alternative）")
            return self
        if self.met_by is None:
            raise ValueError(
                f"{where}：未写明由哪个事件达成（met_by，可选：{'、'.join(PROGRESS_EVENTS)}）；"
                "没有事件能报告的节点须写 tracked: false 并在 note 中说明原因"
            )
        if self.starts_on in PROGRESS_EVENTS and PROGRESS_EVENTS.index(
            self.met_by
        ) <= PROGRESS_EVENTS.index(self.starts_on):
            raise ValueError(
                f"{where}：达成事件 {self.met_by} 不在起算事件 {self.starts_on} 之后，"
                "时钟开始时它已发生，节点无法按时达成"
            )
        return self


def sla_alternative_groups(sla: list[SlaMilestone]) -> dict[str, list[SlaMilestone]]:
    """The benefit's alternative groups, each with its variants in ``sla`` order."""
    groups: dict[str, list[SlaMilestone]] = {}
    for spec in sla:
        if spec.alternative is not None:
            groups.setdefault(spec.alternative.group, []).append(spec)
    return groups


def check_alternatives(sla: list[SlaMilestone]) -> None:
    """Refuse a group the engine could never choose in: one variant only, variants that
    disagree on the choice or start on different events (their clocks never start
    together), or a time-of-day choice whose earlier variants have no hours of their own."""
    for group, specs in sla_alternative_groups(sla).items():
        where = f"SLA 备选组“{group}”"
        codes = "、".join(spec.code for spec in specs)
        if len(specs) < 2:
            raise ValueError(f"{where}只有一个节点（{codes}）：备选至少要有两个")
        if len({spec.alternative.choice for spec in specs if spec.alternative}) > 1:
            raise ValueError(f"{where}的节点（{codes}）选择方式（choice）不一致")
        if len({spec.starts_on for spec in specs}) > 1:
            raise ValueError(
                f"{where}的节点（{codes}）起算事件不同：只有同时起算的节点才能互为备选"
            )
        choice = specs[0].alternative.choice if specs[0].alternative else None
        if choice == "inside_hours":
            missing = [spec.code for spec in specs[:-1] if spec.business_hours is None]
            if missing:
                raise ValueError(
                    f"{where}按提交时段选择（inside_hours）："
                    f"{'、'.join(missing)} 须写明自己的 business_hours（适用时段）"
                )
