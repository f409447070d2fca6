"""Working one request from its admin page: a button for every transition the lifecycle
allows in the request's current status, each a small form, applied through the same service
functions the staff API calls (``staff.staff_event``, else ``services.request_transition``
for the steps the staff API has no name for: asking for records, recording a contact), and
a review gate's decision through ``staff.review_record``, as the staff API records it.

Nothing here decides whether a step is allowed: the buttons are ``workflow.allowed_events``
of the status, and the services refuse again under the request's lock (a second tab, a
vendor acting at the same time) with a message the form shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from benefits.catalogue.vendors import assignable_vendors
from bookings.lifecycle.cancellation import CAUSES, EVENT_CAUSES
from bookings.lifecycle.reviews import REVIEWER_NAMES, open_reviews
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.staff import EVENT_PERMISSIONS, Consumed, review_record, staff_event
from bookings.lifecycle.workflow import TRANSITIONS, allowed_events
from bookings.models import ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.tenancy import has_permission

CHANNEL = "admin"
# Every step changes the request (the 坐席's permission); some need more (EVENT_PERMISSIONS).
CHANGE_PERMISSION = "bookings.change_servicerequest"
# The lifecycle's events the staff API names (bookings.lifecycle.staff.STAFF_EVENTS).
STAFF_NAMES = {
    "approved": "approve",
    "investigating": "investigate",
    "rejected": "reject",
    "assigned": "assign",
    "in_service": "start",
    "completed": "complete",
    "cancelled": "cancel",
    "no_show": "no_show",
    "failed": "fail",
}
# A failed review ends the request (rejected, or cancelled for the insurer's cause): the
# 主管's decision, as 审核未通过 is.
REVIEW_PERMISSIONS = (CHANGE_PERMISSION, EVENT_PERMISSIONS["reject"])
MEASURES = [("times", _("次")), ("days", _("天")), ("cny", _("元"))]


class NoteForm(forms.Form):
    reason = forms.CharField(
        label=_("说明（可不填，将告知客户）"), max_length=300, required=False, widget=forms.Textarea
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因（将告知客户）"), max_length=300, widget=forms.Textarea)


class RecordsForm(forms.Form):
    reason = forms.CharField(
        label=_("需要补充的资料（将告知客户）"), max_length=300, widget=forms.Textarea
    )


def _cause_field(event: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("原因类别（决定权益返还还是视为已使用）"),
        choices=[(cause, CAUSES[cause]) for cause in EVENT_CAUSES[event]],
    )


class CancelForm(ReasonForm):
    cause = _cause_field("cancelled")


class FailForm(ReasonForm):
    cause = _cause_field("failed")


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=_("预约时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("服务地点"), max_length=200, required=False)
    reason = forms.CharField(label=_("说明（可不填）"), max_length=300, required=False)


class CompleteForm(forms.Form):
    measure = forms.ChoiceField(label=_("实际消耗的计量"), choices=MEASURES, required=False)
    amount = forms.DecimalField(
        label=_("实际消耗数量（不填则按整次使用）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )
    reason = forms.CharField(label=_("说明（可不填）"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("amount") is not None and not data.get("measure"):
            self.add_error("measure", _("填写了消耗数量时，请选择计量单位"))
        return data


class VendorForm(forms.Form):
    vendor: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("服务商"),
        queryset=None,
        error_messages={"invalid_choice": _("该服务商不提供本申请的权益服务，请从列表中选择")},
    )
    reason = forms.CharField(label=_("说明（可不填）"), max_length=300, required=False)

    def __init__(self, *args: Any, request: ServiceRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the vendors that deliver the benefit; request_transition refuses any other.
        self.fields["vendor"].queryset = assignable_vendors(request.benefit)  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    gate = forms.ChoiceField(label=_("审核节点"))
    passed = forms.TypedChoiceField(
        label=_("审核结论"),
        choices=[("yes", _("通过")), ("no", _("未通过（申请随之结束，权益返还）"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("依据（谁、依据什么作出的结论）"), max_length=300, widget=forms.Textarea
    )

    def __init__(self, *args: Any, request: ServiceRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the benefit's gates still open; review_record refuses any other.
        self.fields["gate"].choices = [  # type: ignore[attr-defined]
            (gate.code, f"{gate.label}（{REVIEWER_NAMES[gate.by]}）")
            for gate in open_reviews(request)
        ]


@dataclass(frozen=True)
class DeskAction:
    event: str  # the lifecycle's (workflow.TRANSITIONS)
    form: Callable[..., forms.Form]
    needs_request: bool = False  # the form's choices depend on the request (vendors)

    @property
    def label(self) -> object:
        return TRANSITIONS[self.event].label

    @property
    def permissions(self) -> tuple[str, ...]:
        extra = EVENT_PERMISSIONS.get(STAFF_NAMES.get(self.event, ""))
        return (CHANGE_PERMISSION, extra) if extra else (CHANGE_PERMISSION,)

    def make_form(self, request: ServiceRequest, data: Any = None) -> forms.Form:
        if self.needs_request:
            return self.form(data, request=request)
        return self.form(data)


DESK_ACTIONS: dict[str, DeskAction] = {
    action.event: action
    for action in (
        DeskAction("records_requested", RecordsForm),
        DeskAction("records_complete", NoteForm),
        DeskAction("investigating", NoteForm),
        DeskAction("approved", NoteForm),
        DeskAction("rejected", ReasonForm),
        DeskAction("assigned", VendorForm, needs_request=True),
        DeskAction("contacted", NoteForm),
        DeskAction("plan_confirmed", NoteForm),
        DeskAction("scheduled", ScheduleForm),
        DeskAction("in_service", NoteForm),
        DeskAction("completed", CompleteForm),
        DeskAction("no_show", NoteForm),
        DeskAction("failed", FailForm),
        DeskAction("cancelled", CancelForm),
    )
}


def desk_actions(request: ServiceRequest, user: Any) -> list[DeskAction]:
    """The steps ``user`` may take on ``request`` now, in the lifecycle's order."""
    return [
        DESK_ACTIONS[event]
        for event in allowed_events(request.status)
        if event in DESK_ACTIONS and has_permission(user, *DESK_ACTIONS[event].permissions)
    ]


def desk_apply(
    request: ServiceRequest, event: str, data: dict[str, Any], *, actor: Actor
) -> ServiceRequest:
    """Apply ``event`` with a valid form's ``data`` through the staff API's service (or the
    lifecycle's, for steps the staff API has no name for). Raises the services' DomainError."""
    reason = str(data.get("reason") or "")
    if event == "scheduled":
        name = "reschedule" if request.status == Status.SCHEDULED else "schedule"
        return staff_event(
            request,
            actor=actor,
            event=name,
            channel=CHANNEL,
            at=data["at"],
            place=data.get("place") or "",
            reason=reason,
        )
    staff_name = STAFF_NAMES.get(event)
    if staff_name is None:
        return request_transition(request, event, actor=actor, reason=reason, channel=CHANNEL)
    consumption: tuple[Consumed, ...] = ()
    if event == "completed" and data.get("amount") is not None:
        consumption = (Consumed(measure=data["measure"], amount=data["amount"], note=reason),)
    return staff_event(
        request,
        actor=actor,
        event=staff_name,
        channel=CHANNEL,
        vendor=data.get("vendor"),
        reason=reason,
        cause=data.get("cause") or "",
        consumption=consumption,
    )


def desk_review(request: ServiceRequest, data: dict[str, Any], *, actor: Actor) -> ServiceRequest:
    """Record a valid ``ReviewForm``'s decision as the staff API does. Raises its
    DomainError (a gate closed meanwhile, the request ended in another tab)."""
    return review_record(
        request,
        actor=actor,
        gate=data["gate"],
        passed=data["passed"],
        reason=data["reason"],
        channel=CHANNEL,
    )


def may_review(request: ServiceRequest, user: Any) -> bool:
    """Whether ``user`` may record a review decision on ``request`` now (a gate is open)."""
    return has_permission(user, *REVIEW_PERMISSIONS) and bool(open_reviews(request))
