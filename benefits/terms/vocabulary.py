"""The vocabulary of benefit terms: reason codes, units, clocks, events and anchors, codes,
and the strict base every terms model derives from."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

REASON_CODES: tuple[str, ...] = (
    "policy_not_in_force",
    "cooling_off",
    "waiting_period",
    "service_expired",
    "condition_not_covered",
    "condition_unsuitable",
    "hospitalisation_required",
    "outside_window",
    "age",
    "recipient_not_allowed",
    "not_in_network",
    "lead_time",
    "quota_exhausted",
    "prerequisite_missing",
    "exclusive_choice_used",
    "filing_deadline",
    "citizenship",
    # Added by issue 14 (not in DOMAIN.md §3; documented in FORMAT.md "Reason codes").
    "outside_service_hours",
    "fare_class_not_covered",
    # issue 14: policy attributes, lists, exclusions, places, amounts, documents, scope.
    "sum_insured_below",
    "rider_missing",
    "item_not_on_list",
    "mutually_exclusive",
    "not_away_from_home",
    "amount_check",
    "document_invalid",
    "out_of_scope",
)

TimeUnit = Literal["minutes", "hours", "days", "weeks", "months", "years"]
Clock = Literal["natural", "working"]
QuotaUnit = Literal["times", "days", "cny", "unlimited"]
Period = Literal["policy_year", "whole_policy", "per_hospitalisation", "window_after_start"]
Sharing = Literal["insured", "insured_and_family", "family_pool"]
# Events of a service request (and of the health episode behind it) that start a clock,
# anchor a window or make a cancellation count as used.
RequestEvent = Literal[
    "submitted",
    "records_complete",
    "approved",
    "assigned",
    "plan_confirmed",
    "scheduled",
    "in_service",
    "completed",
    "discharge_notified",
]
# The events that report a request's progress, in the order they happen: reaching one
# implies the earlier ones (approval needs complete records, an appointment needs a contact),
# so a milestone met by one is also met by any later one. ``met_by`` names one of these.
ProgressEvent = Literal[
    "records_complete",
    "approved",
    "assigned",
    "contacted",
    "plan_confirmed",
    "scheduled",
    "in_service",
    "completed",
]
PROGRESS_EVENTS: tuple[str, ...] = get_args(ProgressEvent)
# Events that stop an SLA clock until the request's next event (``SlaMilestone.paused_by``):
# records asked of the member (``records_requested``, until they are complete) and an
# investigation of the claim (``investigating``, until the next step is recorded).
PauseEvent = Literal["records_requested", "investigating"]
PAUSE_EVENTS: tuple[str, ...] = get_args(PauseEvent)
# How one variant of an SLA alternative group is kept when the group's clocks start
# (FORMAT.md explains each): the variant whose business hours contain the start, the
# ordinary (first listed) one, or the one with the latest deadline.
AlternativeChoice = Literal["inside_hours", "ordinary", "most_lenient"]
# Events after which follow-ups (回访) can be scheduled: the engine plans them on completion.
FollowUpStart = Literal["completed"]
EpisodeAnchor = Literal[
    "admission",
    "discharge",
    "visit",
    "diagnosis",
    "service_start",
    "first_use",
    "purchase",
    "policy_effective",
]
Person = Literal["insured", "holder", "family", "guardian", "proxy"]
Relation = Literal["spouse", "child", "parent", "other"]
Ward = Literal["icu", "vip", "special_needs", "rehab_sanatorium"]

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"“{value}”不是有效代码：只能用小写字母、数字和下划线，并以字母开头")
    return value


Slug = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_slug)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
