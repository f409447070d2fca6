"""The workbench pages: the vendor's requests with their deadlines, one request's page with
the actions its status allows, and its files (each opening logged).

Each action is a POST of a form carrying its own ``Idempotency-Key`` and runs through
``bookings.idempotency.idempotent_call`` with the vendor as key owner, calling the service
the vendor API calls (``bookings.vendors.services``) on the request found by the API's
selector (``vendor_request``: another vendor's request is 404). A second submit of the same
form replays the first answer and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bookings.documents.services import document_open
from bookings.idempotency import (
    IdempotencyKeyReused,
    KeyOwner,
    idempotent_call,
    request_fingerprint,
    upload_sha256,
)
from bookings.lifecycle.workflow import DELIVERABLE_STATUSES, DELIVERING_STATUSES, TRANSITIONS
from bookings.models import VendorAccount
from bookings.vendors import schemas
from bookings.vendors.selectors import (
    vendor_document,
    vendor_request,
    vendor_request_detail,
    vendor_worklist,
)
from bookings.vendors.services import (
    consumption_record,
    deliverable_add,
    vendor_actor,
    vendor_event,
)
from portal.kernel.errors import DomainError, NotFound
from portal.vendor.access import vendor_required
from portal.vendor.forms import MEASURE_LABELS, ConsumptionForm, DeliverableForm, EventForm

PAGE_SIZE = 30
# Workbench keys live beside the vendor's API keys; the prefix keeps them apart in the log.
KEY_PREFIX = "web:"
Apply = Callable[[], tuple[int, dict[str, Any]]]


def new_key() -> str:
    return uuid.uuid4().hex


@require_GET
@vendor_required
def home(request: HttpRequest, account: VendorAccount) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    rows = vendor_worklist(account.vendor, delivering_only=not show_all)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"account": account, "page": page, "show_all": show_all}
    return render(request, "vendor/home.html", context)


@require_GET
@vendor_required
def request_detail(request: HttpRequest, account: VendorAccount, ref: str) -> HttpResponse:
    return _detail_page(request, account, ref)


@require_POST
@vendor_required
def request_event(request: HttpRequest, account: VendorAccount, ref: str) -> HttpResponse:
    vendor = account.vendor
    _own_request(account, ref)
    form = EventForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, account, ref, failed=("event", form), status=422)
    data = form.cleaned_data

    def apply() -> tuple[int, dict[str, Any]]:
        updated = vendor_event(
            vendor_request(vendor, ref),
            vendor=vendor,
            event=data["event"],
            at=data["at"],
            place=data["place"],
            reason=data["reason"],
            cause=data["cause"],
            user=request.user,
        )
        return 200, schemas.state(updated)

    payload = {**data, "at": data["at"].isoformat() if data["at"] else None}
    label = TRANSITIONS[data["event"]].label
    done = _("已报告：%(event)s") % {"event": label}
    return _run(request, account, ref, ("event", form), payload, apply, done)


@require_POST
@vendor_required
def request_consumption(request: HttpRequest, account: VendorAccount, ref: str) -> HttpResponse:
    _own_request(account, ref)
    form = ConsumptionForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, account, ref, failed=("consumption", form), status=422)
    data = form.cleaned_data

    def apply() -> tuple[int, dict[str, Any]]:
        row = consumption_record(
            vendor_request(account.vendor, ref),
            measure=data["measure"],
            amount=data["amount"],
            note=data["note"],
        )
        return 201, {"id": row.pk, "measure": row.measure, "amount": str(row.amount)}

    payload = {**data, "amount": str(data["amount"])}
    return _run(request, account, ref, ("consumption", form), payload, apply, _("已记录实际消耗"))


@require_POST
@vendor_required
def request_deliverable(request: HttpRequest, account: VendorAccount, ref: str) -> HttpResponse:
    vendor = account.vendor
    _own_request(account, ref)
    form = DeliverableForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_page(request, account, ref, failed=("deliverable", form), status=422)
    upload = form.cleaned_data["file"]
    requirement = form.cleaned_data["requirement"]
    name = upload.name or ""

    def apply() -> tuple[int, dict[str, Any]]:
        added = deliverable_add(
            vendor_request(vendor, ref),
            vendor=vendor,
            name=name,
            data=upload,
            requirement=requirement,
            user=request.user,
        )
        return 201, {"id": added.pk, "name": added.display_name}

    payload = {"name": name, "requirement": requirement, "sha256": upload_sha256(upload)}
    done = _("已上传：%(name)s") % {"name": name}
    return _run(request, account, ref, ("deliverable", form), payload, apply, done)


@require_GET
@vendor_required
def document_file(
    request: HttpRequest, account: VendorAccount, ref: str, document_id: int
) -> HttpResponseBase:
    try:
        document = vendor_document(account.vendor, ref, document_id)
    except NotFound:
        raise Http404 from None
    except DomainError as refused:  # consent withdrawn (403), file purged (410)
        return _refusal(refused)
    handle = document_open(
        document,
        actor=vendor_actor(account.vendor, request.user),
        purpose="download",
        ip=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.display_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- helpers ------------------------------------------------------------------------------


def _refusal(refused: DomainError) -> HttpResponse:
    """A refused download: the Chinese reason as a page, the stable code in a header (the
    workbench's links open in the browser, which shows the page)."""
    response = HttpResponse(
        format_html("<!doctype html><title>{0}</title><p>{0}</p>", refused.message),
        status=refused.status,
    )
    response["X-Error-Code"] = refused.code
    return response


def _own_request(account: VendorAccount, ref: str) -> None:
    """404 for a request not assigned to the account's vendor, before any form is read."""
    try:
        vendor_request(account.vendor, ref)
    except NotFound:
        raise Http404 from None


def _run(
    request: HttpRequest,
    account: VendorAccount,
    ref: str,
    failed_form: tuple[str, Form],
    payload: dict[str, Any],
    apply: Apply,
    done: str,
) -> HttpResponse:
    """Apply once per the form's key. Success: back to the request's page with ``done``
    (a replay says nothing was applied again). Refusal: the page again, with the input, the
    service's reason and a fresh key for the corrected attempt."""
    kind, form = failed_form
    key = KEY_PREFIX + form.cleaned_data["idempotency_key"]
    try:
        stored = idempotent_call(
            owner=KeyOwner(vendor=account.vendor),
            key=key,
            fingerprint=request_fingerprint("POST", request.path, payload),
            apply=apply,
        )
    except IdempotencyKeyReused as exc:
        messages.error(request, exc.message)
        return redirect("vendor:request_detail", ref=ref)
    if stored.status >= 400:
        message = stored.body.get("message") or _("操作未能完成")
        if kind == "deliverable":  # a file cannot be put back into a form
            rebound: Form = DeliverableForm(initial={"idempotency_key": new_key()})
        else:
            rebound = type(form)({**request.POST.dict(), "idempotency_key": new_key()})
        return _detail_page(
            request, account, ref, failed=(kind, rebound), refusal=message, status=stored.status
        )
    if stored.replayed:
        messages.info(request, _("该操作已提交过，未重复执行（%(done)s）") % {"done": done})
    else:
        messages.success(request, done)
    return redirect("vendor:request_detail", ref=ref)


def _detail_page(
    request: HttpRequest,
    account: VendorAccount,
    ref: str,
    failed: tuple[str, Form] | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        service_request = vendor_request_detail(account.vendor, ref)
    except NotFound:
        raise Http404 from None
    item = schemas.detail(service_request)
    event_forms: list[tuple[str, Any, Form]] = [
        (
            code,
            TRANSITIONS[code].label,
            EventForm(initial={"event": code, "idempotency_key": new_key()}),
        )
        for code in item["next_events"]
    ]
    consumption_form: Form = ConsumptionForm(initial={"idempotency_key": new_key()})
    deliverable_form: Form = DeliverableForm(initial={"idempotency_key": new_key()})
    failed_kind, failed_event = "", ""
    if failed is not None:
        kind, form = failed
        failed_kind = kind
        if kind == "event":
            event = failed_event = form.data.get("event", "")
            event_forms = [
                (code, label, form if code == event else other)
                for code, label, other in event_forms
            ]
        elif kind == "consumption":
            consumption_form = form
        else:
            deliverable_form = form
    context = {
        "account": account,
        "item": item,
        "event_forms": event_forms,
        "consumptions": [
            {
                "amount": row.amount.normalize(),
                "unit": MEASURE_LABELS.get(row.measure, row.measure),
                "note": row.note,
                "recorded_at": row.recorded_at,
            }
            for row in service_request.consumptions.order_by("recorded_at", "id")
        ],
        "can_consume": service_request.status in DELIVERING_STATUSES,
        "can_upload": service_request.status in DELIVERABLE_STATUSES,
        "consumption_form": consumption_form,
        "deliverable_form": deliverable_form,
        "failed_kind": failed_kind,
        "failed_event": failed_event,
        "refusal": refusal,
    }
    return render(request, "vendor/request_detail.html", context, status=status)
