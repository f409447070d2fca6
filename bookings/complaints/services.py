"""Writes on complaints: filing (portal or hotline), assignment, the two extensions of the
clock, replies to the complainant and the outcome that closes it. Each takes keyword
arguments, checks what it needs and raises ``DomainError`` with a stable code; views, the
staff API and admin only parse input and call these."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.models import Person, Policy, Vendor
from bookings.complaints import clock
from bookings.messages.notifications import DIGEST_MAX_ITEMS, notify_operations, notify_person
from bookings.models import Complaint, ComplaintReply, ServiceRequest
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError, ErrorCode
from portal.kernel.tenancy import insurer_staff_with

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
DESCRIPTION_MAX_CHARS = 2000
REASON_MAX_CHARS = 300
# Who may be given a complaint: staff of its insurer who may work complaints.
WORKING_PERMISSION = ("bookings", "change_complaint")
Status = Complaint.Status


def new_ref() -> str:
    return "TS" + "".join(secrets.choice(REF_ALPHABET) for _ in range(10))


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, status=422, field=field)


def _text(value: str, field: str, *, empty: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise _invalid(empty, field)
    if len(value) > limit:
        raise _invalid(_("内容过长，最多%(n)d个字") % {"n": limit}, field)
    return value


# --- filing ----------------------------------------------------------------------------------


def complaint_file(
    *,
    policy: Policy,
    person: Person,
    category: str,
    description: str,
    channel: str,
    actor: Actor,
    request: ServiceRequest | None = None,
    vendor: Vendor | None = None,
    received_at: datetime | None = None,
) -> Complaint:
    """Record a complaint received at ``received_at`` (now): due 15 natural days later
    (``clock``). About ``request`` (of ``policy``) it names that request's benefit and
    vendor; in general a vendor may be named. The caller has checked that ``person`` may
    complain about ``policy`` (their own, or a caller the agent identified)."""
    if category not in Complaint.Category.values:
        raise _invalid(_("请选择投诉类别"), "category")
    if channel not in Complaint.Channel.values:
        raise _invalid(_("不支持的渠道“%(c)s”") % {"c": channel}, "channel")
    text = _text(description, "description", empty=_("请填写投诉内容"), limit=DESCRIPTION_MAX_CHARS)
    if request is not None and request.policy_id != policy.pk:
        raise _invalid(_("该服务申请不属于此保单"), "request")
    at = received_at or timezone.now()
    return Complaint.objects.create(
        ref=new_ref(),
        policy=policy,
        person=person,
        request=request,
        benefit_id=request.benefit_id if request else None,
        vendor=vendor or (request.vendor if request else None),
        category=category,
        description=text,
        channel=channel,
        received_at=at,
        time_limit_days=clock.STANDARD_DAYS,
        due_on=clock.due_day(at, clock.STANDARD_DAYS),
        due_at=clock.deadline(at, clock.STANDARD_DAYS),
        recorded_by=actor.user,
    )


# --- handling --------------------------------------------------------------------------------


def _locked_open(complaint: Complaint) -> Complaint:
    """The complaint's row, locked for this transaction; 409 once it is closed."""
    row = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if row.status != Status.OPEN:
        raise DomainError("complaint_closed", _("该投诉已办结，不能再处理"), status=409)
    return row


def assignable_staff(complaint: Complaint) -> QuerySet[Any]:
    """Active staff of the complaint's insurer who may work complaints, by name."""
    return insurer_staff_with(complaint.policy.product.insurer_id, WORKING_PERMISSION)


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee: Any | None) -> Complaint:
    """Give the complaint to ``assignee`` (None: nobody); 422 ``assignee_not_allowed`` for
    someone not staff of its insurer or without the right to work complaints."""
    row = _locked_open(complaint)
    if assignee is not None and not assignable_staff(row).filter(pk=assignee.pk).exists():
        raise DomainError(
            ErrorCode.ASSIGNEE_NOT_ALLOWED,
            _("“%(user)s”不是本保险公司可处理投诉的员工，不能分配")
            % {"user": assignee.get_username()},
            status=422,
            field="assignee",
        )
    row.assignee = assignee
    row.save(update_fields=["assignee"])
    return row


def _extended(row: Complaint, days: int) -> None:
    row.time_limit_days = days
    row.due_on = clock.due_day(row.received_at, days)
    row.due_at = clock.deadline(row.received_at, days)
    row.warned_at = None  # warned again before the new deadline


def _check_in_time(row: Complaint, at: datetime) -> None:
    # The 办法 extends a limit that is still running: a late complaint stays late.
    if clock.is_late(row, at):
        raise DomainError(
            "extension_not_allowed",
            _("处理期限（%(day)s）已过，不能再延长") % {"day": row.due_on.isoformat()},
            status=409,
        )


def check_extension(row: Complaint, *, to_days: int, at: datetime) -> None:
    """Refuse (409 ``extension_not_allowed``) an extension out of order or after the
    deadline; (409 ``complaint_closed``) one of a closed complaint."""
    if row.status != Status.OPEN:
        raise DomainError("complaint_closed", _("该投诉已办结，不能再处理"), status=409)
    if to_days == clock.COMPLEX_DAYS and row.time_limit_days != clock.STANDARD_DAYS:
        raise DomainError("extension_not_allowed", _("该投诉已延长过处理时限"), status=409)
    if to_days == clock.APPROVED_DAYS and row.time_limit_days != clock.COMPLEX_DAYS:
        raise DomainError(
            "extension_not_allowed", _("须先延长至30日，才能审批再延长30日"), status=409
        )
    _check_in_time(row, at)


@transaction.atomic
def complaint_extend(*, complaint: Complaint, reason: str, actor: Actor, at: datetime) -> Complaint:
    """情况复杂: 15 → 30 days, with the reason; the complainant is told the new date."""
    row = _locked_open(complaint)
    text = _text(reason, "reason", empty=_("请说明延长原因"), limit=REASON_MAX_CHARS)
    check_extension(row, to_days=clock.COMPLEX_DAYS, at=at)
    _extended(row, clock.COMPLEX_DAYS)
    row.extension_reason, row.extended_at, row.extended_by = text, at, actor.user
    row.save()
    _tell_complainant(row, "complaint_extended", {"due": _day(row)})
    return row


@transaction.atomic
def complaint_approve_extension(
    *, complaint: Complaint, reason: str, approver: Actor, at: datetime
) -> Complaint:
    """情况特别复杂: 30 → 60 days, only with the internal approval recorded (who, when, why).
    The caller checked that ``approver`` holds ``bookings.approve_extension_complaint``."""
    if approver.user is None:  # the 办法's internal approval is a named person's
        raise _invalid(_("再延长须由具名的审批人批准"), "approver")
    row = _locked_open(complaint)
    text = _text(reason, "reason", empty=_("请填写审批理由"), limit=REASON_MAX_CHARS)
    check_extension(row, to_days=clock.APPROVED_DAYS, at=at)
    _extended(row, clock.APPROVED_DAYS)
    row.approval_reason, row.approved_at, row.approved_by = text, at, approver.user
    row.save()
    _tell_complainant(row, "complaint_extended", {"due": _day(row)})
    return row


@transaction.atomic
def complaint_reply(*, complaint: Complaint, body: str, author: Actor) -> ComplaintReply:
    """A reply shown to the complainant in the portal and announced by SMS."""
    row = _locked_open(complaint)
    text = _text(body, "body", empty=_("请填写回复内容"), limit=DESCRIPTION_MAX_CHARS)
    reply = ComplaintReply.objects.create(complaint=row, body=text, author=author.user)
    _tell_complainant(row, "complaint_reply", {})
    return reply


@transaction.atomic
def complaint_close(
    *, complaint: Complaint, outcome: str, text: str, actor: Actor, at: datetime
) -> Complaint:
    """The decision (成立 / 部分成立 / 不成立, with its reasons) closes the complaint."""
    row = _locked_open(complaint)
    if outcome not in Complaint.Outcome.values:
        raise _invalid(_("请选择处理结果"), "outcome")
    row.outcome = outcome
    row.outcome_text = _text(
        text, "outcome_text", empty=_("请填写处理意见"), limit=DESCRIPTION_MAX_CHARS
    )
    row.status, row.closed_at, row.closed_by = Status.CLOSED, at, actor.user
    row.save()
    _tell_complainant(row, "complaint_closed", {"outcome": str(row.get_outcome_display())})
    return row


# --- telling people --------------------------------------------------------------------------


def _day(row: Complaint) -> str:
    return f"{row.due_on:%Y年%m月%d日}"


def _tell_complainant(row: Complaint, template_code: str, context: dict[str, str]) -> None:
    notify_person(row.person, row.request, template_code, {"ref": row.ref, **context})


def notify_complaints(rows: Sequence[Complaint], *, kind: Literal["warning", "breach"]) -> None:
    """The operations digest of the milestones (``milestone_warning`` / ``milestone_breach``)
    for complaints just warned or escalated. ``rows`` come with benefit and vendor loaded."""
    items = [
        {
            "ref": row.ref,
            "benefit": row.benefit.name if row.benefit else _("客户投诉"),
            "label": _("投诉处理时限（%(n)d日）") % {"n": row.time_limit_days},
            "due": f"{_day(row)} 24:00",
            "vendor": row.vendor.name if row.vendor else "",
            "provisional": False,
        }
        for row in rows[:DIGEST_MAX_ITEMS]
    ]
    notify_operations(
        f"milestone_{kind}",
        {"items": items, "count": len(rows), "more": max(len(rows) - DIGEST_MAX_ITEMS, 0)},
    )
