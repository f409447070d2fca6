"""Amounts of time in benefit terms (on the natural or the working clock), offsets from an
anchor event, and business hours. The arithmetic on them is ``benefits.calendar.durations``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from benefits.terms.vocabulary import Clock, Strict, TimeUnit


class Duration(Strict):
    """An amount of time on a clock: ``2 hours working`` is two working hours."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)]
    unit: TimeUnit
    clock: Clock = "natural"

    @model_validator(mode="after")
    def _working_clock_units(self) -> Duration:
        if self.clock == "working" and self.unit not in ("minutes", "hours", "days"):
            raise ValueError("工作时间只能以分钟、小时或工作日计")
        if self.unit in ("months", "years") and self.amount != self.amount.to_integral_value():
            # Calendar months have no fraction a date could be computed from.
            raise ValueError("以月或年计的时长须为整数")
        return self


class Offset(Duration):
    """A duration before or after an anchor event ("出院前24小时", "出院后3日内"); zero is
    the anchor itself ("出院前" = not after discharge)."""

    amount: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
    direction: Literal["before", "after"]


class BusinessHours(Strict):
    """When a service is staffed: working hours count only inside these."""

    days: Literal["working_days", "every_day", "every_day_except_holidays"]
    start: str = "00:00"
    end: str = "24:00"
    label: str = ""

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", value):
            raise ValueError(f"时间“{value}”格式应为 HH:MM")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("服务时间的结束须晚于开始")
        return self
