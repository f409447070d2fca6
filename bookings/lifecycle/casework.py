"""The insurer's own work on a request beside its lifecycle: who works it (我的待办), internal
notes and the call log. None of it changes the request's status or quota, and none of it
is shown to the policyholder or the vendor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from bookings.models import CallLog, RequestNote, ServiceRequest
from portal.kernel.errors import DomainError
from portal.kernel.tenancy import insurer_staff_with

# Who may be given a request: staff of its insurer who may act on requests.
WORKING_PERMISSION = ("bookings", "change_servicerequest")


def assignable_staff(request: ServiceRequest) -> QuerySet[Any]:
    """Active staff users of the request's insurer who may act on requests, by name."""
    return insurer_staff_with(request.policy.product.insurer_id, WORKING_PERMISSION)


def request_assignee_set(*, request: ServiceRequest, assignee: Any | None) -> ServiceRequest:
    """Give the request to ``assignee`` (None: nobody). Refuses (422 ``assignee_not_allowed``)
    a user who is not staff of the request's insurer or may not act on requests. The change
    history (auditlog) records who changed it."""
    if assignee is not None and not assignable_staff(request).filter(pk=assignee.pk).exists():
        raise DomainError(
            "assignee_not_allowed",
            _("“%(user)s”不是本保险公司可处理服务申请的员工，不能分配")
            % {"user": assignee.get_username()},
            status=422,
            field="assignee",
        )
    request.assignee = assignee
    request.save(update_fields=["assignee", "updated_at"])
    return request


def request_note_add(*, request: ServiceRequest, author: Any, body: str) -> RequestNote:
    body = body.strip()
    if not body:
        raise DomainError("invalid_input", _("备注内容不能为空"), status=422, field="body")
    return RequestNote.objects.create(request=request, author=author, body=body)


def call_log_record(
    *,
    request: ServiceRequest,
    staff: Any,
    direction: str,
    party: str,
    called_at: datetime,
    summary: str,
) -> CallLog:
    return CallLog.objects.create(
        request=request,
        staff=staff,
        direction=direction,
        party=party,
        called_at=called_at,
        summary=summary.strip(),
    )
