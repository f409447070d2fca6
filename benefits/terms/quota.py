"""How much a benefit grants: the quota with its second limits and money caps per
category, and exclusive choices (多选一)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from benefits.terms.timing import Duration
from benefits.terms.vocabulary import Money, Period, QuotaUnit, Sharing, Slug, Strict


class CategoryCap(Strict):
    """A money cap per category, e.g. 省内 2000 / 省外 5000 元每年."""

    category: Slug
    label: str
    amount: Money


class Limit(Strict):
    """A second limit beside the main quota (护工: at most 2 requests and 30 days a year)."""

    kind: Literal["requests", "days", "consecutive_days"]
    amount: Annotated[Decimal, Field(gt=0)]
    # ``window_month``: each month of the quota's window, counted from the day it opened
    # (中宏 院后居家上门康复指导 "每月1次，为期3个月": 3 times in the window, 1 a month).
    period: Period | Literal["window_month"] = "policy_year"


class Quota(Strict):
    unit: QuotaUnit
    amount: Annotated[Decimal, Field(gt=0)] | None = None
    period: Period = "policy_year"
    window: Duration | None = None
    sharing: Sharing = "insured"
    category_caps: list[CategoryCap] = []
    limits: list[Limit] = []
    # Longest single use ("每次最长6个月", "单次不超过4小时").
    max_per_use: Duration | None = None
    # Remaining units lapse once the service has started (7天住院陪护 "不可拆分").
    lapses_once_started: bool = False
    clause: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Quota:
        if self.unit == "unlimited":
            if self.amount is not None or self.category_caps:
                raise ValueError("不限次的权益不能再设数量或分类上限")
        elif self.amount is None and not self.category_caps:
            raise ValueError("有限次权益必须给出数量（或按类别的金额上限）")
        if self.category_caps and self.unit != "cny":
            raise ValueError("分类金额上限只适用于以人民币计的权益")
        if self.period == "window_after_start" and self.window is None:
            raise ValueError("“启动后时间窗”类权益必须给出时间窗长度")
        if self.period != "window_after_start" and self.window is not None:
            raise ValueError("只有“启动后时间窗”类权益才设时间窗长度")
        if self.period != "window_after_start" and any(
            limit.period == "window_month" for limit in self.limits
        ):
            raise ValueError("limits.period：按月（window_month）只适用于“启动后时间窗”类权益")
        categories = [cap.category for cap in self.category_caps]
        if len(categories) != len(set(categories)):
            raise ValueError("金额上限的类别重复")
        return self

    @property
    def is_unlimited(self) -> bool:
        return self.unit == "unlimited"


class ChoiceOption(Strict):
    code: Slug
    label: str
    amount: Annotated[Decimal, Field(gt=0)]
    unit_label: str = "次"


class ExclusiveChoice(Strict):
    """Choose one of several options per period (儿童齿科 3选1)."""

    group: Slug
    choose: Annotated[int, Field(ge=1)] = 1
    period: Period = "policy_year"
    options: list[ChoiceOption]
    clause: str = ""

    @model_validator(mode="after")
    def _options(self) -> ExclusiveChoice:
        if len(self.options) <= self.choose:
            raise ValueError("多选一的选项数必须多于可选数")
        codes = [option.code for option in self.options]
        if len(codes) != len(set(codes)):
            raise ValueError("多选一的选项代码重复")
        return self
