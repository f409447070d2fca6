"""Cancellation terms: the free window before the service starts, when a cancellation or a
change of the booked time counts as used, what a cancellation costs by its cause (vendor
failure, force majeure, a changed discharge date), and the alternatives a handbook prints
elsewhere."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from benefits.terms.timing import Duration
from benefits.terms.vocabulary import RequestEvent, Strict


class AlternativeCancellation(Strict):
    """Another cancellation window the handbook prints elsewhere, kept so admins can switch."""

    free_before: Duration
    clause: str


class CancellationPolicy(Strict):
    # Cancelling at least this long before the scheduled start is free; later counts as used.
    free_before: Duration | None = None
    # Once the request reaches this event, any cancellation counts as used ("预约即使用").
    counted_as_used_from: RequestEvent | None = None

    # A late cancellation (inside ``free_before``) counts as used only once the request has
    # reached this event too (7天住院陪护 "如若不提前告知且护工已到岗，则视为服务已使用": both).
    late_counts_as_used_from: RequestEvent | None = None
    # How long before the booked time a change of it must be asked for (平安 住院探视
    # "如需变更已约定的服务时间，客户需提前 4 小时通知").
    change_notice: Duration | None = None
    # Whether a change asked for inside ``change_notice`` counts as used (MDT "24 小时以内
    # （含 24 小时）取消/修改预约，则视作服务权益已使用完毕"); false where the handbook only
    # promises best effort (平安 住院探视 "我方应尽力提供服务").
    late_change_counts_as_used: bool = False
    # How the moment exactly ``free_before`` / ``change_notice`` ahead reads: "in_time" for
    # "至少提前12小时"; "late" for "以内（含 24 小时）", where the boundary itself is late.
    boundary: Literal["in_time", "late"] = "in_time"
    # Changes (and cancellations) of a booked time allowed (MDT: at most 2); the next one is
    # counted as used or refused, as ``beyond_max_changes`` says.
    max_changes: Annotated[int, Field(ge=0)] | None = None
    beyond_max_changes: Literal["used", "refused"] = "used"
    no_show_counts_as_used: bool = True
    vendor_failure_returns_quota: bool = True
    # True: the member keeps the use when force majeure stops the service ("保留当次权益");
    # false: force majeure is no excuse, the cancellation costs what the member's own would.
    force_majeure_keeps_quota: bool = True
    # True: an objective reason on the hospital's side (专家临时停诊、医院原因) keeps the use,
    # as force majeure does (中宏 宏悦万家 3.4 "由服务商协调其他就诊时间"); false: it costs
    # what the member's own cancellation would (only a subjective reason is the member's).
    hospital_reason_keeps_quota: bool = True
    # True: a cancellation because the hospital moved the discharge date returns the use
    # (not "客户原因"); false: it costs what the member's own would.
    discharge_change_returns_quota: bool = True
    alternatives: list[AlternativeCancellation] = []
    clause: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> CancellationPolicy:
        if self.late_counts_as_used_from and self.free_before is None:
            raise ValueError("late_counts_as_used_from 需要 free_before（何为“未提前告知”）")
        if self.late_change_counts_as_used and self.change_notice is None:
            raise ValueError("late_change_counts_as_used 需要 change_notice（变更需提前多久）")
        return self
