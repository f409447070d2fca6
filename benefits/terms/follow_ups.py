"""Follow-ups (回访) a vendor promises after an event."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import Field, model_validator

from benefits.terms.timing import Duration
from benefits.terms.vocabulary import FollowUpStart, Slug, Strict


class FollowUp(Strict):
    """Check-ins (回访) the vendor promises after an event: ``count`` of them, one every
    ``every`` from the day of ``starts_on``, sent in the morning."""

    code: Slug
    label: str
    starts_on: FollowUpStart
    every: Duration
    count: Annotated[int, Field(ge=1, le=60)]
    # Stop at the policy's expiry ("保单有效期内每月回访").
    until_policy_expiry: bool = False
    clause: Annotated[str, Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _schedulable(cls, data: Any) -> Any:
        if isinstance(data, dict) and "starts_on" in data:
            allowed = get_args(FollowUpStart)
            if data["starts_on"] not in allowed:
                raise ValueError(
                    f"回访“{data.get('code', '')}”：起算事件“{data['starts_on']}”无法安排"
                    f"（回访只能自 {'、'.join(allowed)} 起算）"
                )
        return data

    @model_validator(mode="after")
    def _calendar_interval(self) -> FollowUp:
        if (
            self.every.clock != "natural"
            or self.every.unit not in ("days", "weeks", "months", "years")
            or self.every.amount != self.every.amount.to_integral_value()
        ):
            raise ValueError(f"回访“{self.code}”：间隔须为整数个自然日、周、月或年")
        return self
