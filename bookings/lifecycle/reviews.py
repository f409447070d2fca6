"""Review gates (``BenefitTerms.reviews``): a decision a hospital, a doctor or the insurer
takes outside the request before one of its steps (安盛 博鳌 "须由……医院评估确定适宜申请",
器械直付 "主治医师……再次评估", 中宏 质子重离子 "以……医院门诊要求为准"). Each decision is a
``reviewed`` event row with who recorded it, who decided (``by``), whether it passed and why;
``request_transition`` asks ``review_gate_check`` before the gated step, and the staff API
records decisions (``bookings.lifecycle.staff.review_record``)."""

from __future__ import annotations

from benefits.terms.reviews import ReviewGate
from bookings.models import OPEN_STATUSES, RequestEvent, ServiceRequest, Status
from portal.kernel.errors import DomainError

REVIEW_EVENT = "reviewed"
REVIEWER_NAMES = {
    "hospital": "医院",
    "doctor": "主治医生",
    "insurer": "保险公司",
    "vendor": "服务商",
    "member": "服务对象或其家属",
}


def review_decisions(request: ServiceRequest) -> dict[str, bool]:
    """The latest decision per gate code (True: passed), from the request's event rows."""
    decisions: dict[str, bool] = {}
    rows = RequestEvent.objects.filter(request=request, event=REVIEW_EVENT).order_by("at", "id")
    for data in rows.values_list("data", flat=True):
        decisions[str(data.get("gate"))] = bool(data.get("passed"))
    return decisions


def pending_reviews(request: ServiceRequest, event: str) -> list[ReviewGate]:
    """The gates standing before ``event`` that have not been recorded as passed."""
    gates = [g for g in request.benefit.parsed_terms.reviews if g.before == event]
    if not gates:
        return []
    decisions = review_decisions(request)
    return [g for g in gates if not decisions.get(g.code)]


# The gated steps in the order a request takes them, and how far each status has come.
GATED_STEP_ORDER = {"approved": 0, "scheduled": 1, "in_service": 2}
STATUS_STEP = {Status.APPROVED: 0, Status.ASSIGNED: 0, Status.SCHEDULED: 1, Status.IN_SERVICE: 2}


def step_reached(request: ServiceRequest, step: str) -> bool:
    """Whether the request already took the gated ``step`` (a review then comes too late)."""
    status_step = STATUS_STEP.get(Status(request.status))
    return status_step is not None and status_step >= GATED_STEP_ORDER[step]


def open_reviews(request: ServiceRequest) -> list[ReviewGate]:
    """The gates a decision can still be recorded for: not yet passed, before a step the
    open request has not taken (``staff.review_record`` refuses any other)."""
    if request.status not in OPEN_STATUSES:
        return []
    gates = request.benefit.parsed_terms.reviews
    if not gates:
        return []
    decisions = review_decisions(request)
    return [g for g in gates if not decisions.get(g.code) and not step_reached(request, g.before)]


def review_gate_check(request: ServiceRequest, event: str) -> None:
    """Refuse (409 ``review_pending``) a gated step whose reviews have not all passed."""
    pending = pending_reviews(request, event)
    if pending:
        labels = "；".join(f"{g.label}（{REVIEWER_NAMES[g.by]}）" for g in pending)
        raise DomainError(
            "review_pending",
            f"须先完成审核：{labels}",
            status=409,
            reviews=[g.code for g in pending],
            clause=pending[0].clause,
        )
