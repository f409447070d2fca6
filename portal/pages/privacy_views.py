"""个人信息授权: the policyholder reads the consent to process health information (its
purpose and the vendors who receive it), gives it (asked right after the first binding) or
withdraws it; withdraws the consent to provide a request's records to its vendor, per
request or all at once with the health-information consent; downloads a copy of their data.
The rules live in ``benefits.policies.consent``, ``bookings.documents.sharing`` and
``portal.pages.data_copy``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from benefits.models import Person
from benefits.policies.consent import (
    consent_grant,
    consent_needed,
    consent_withdraw,
    current_consent,
    health_consent_terms,
)
from benefits.policies.consents import ConsentRecord
from bookings.documents.sharing import (
    records_consent_record,
    records_consents_of,
    records_consents_withdraw,
)
from bookings.models import OPEN_STATUSES, RecordsConsent
from portal.kernel.actor import Actor
from portal.kernel.tenancy import request_user
from portal.pages.access import policyholder_required, portal_person
from portal.pages.data_copy import (
    data_copy_json,
    data_copy_logged,
    data_copy_xlsx,
    personal_data_copy,
)

HOME_URL = "/"


@policyholder_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    person = portal_person(request)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "grant":
            consent_grant(person, channel=ConsentRecord.Channel.PORTAL, user=request_user(request))
            messages.success(request, _("已同意处理健康信息，感谢您的信任"))
            return redirect(next_url or HOME_URL)
        if action in ("withdraw_records", "grant_records"):
            _records_consent_action(request, person, action, request.POST.get("ref", ""))
            return redirect("portal:consent")
        if action == "withdraw":
            # Withdrawing the consent to process health information ends the consents to
            # provide records to vendors too: none of it may go on being shared.
            records_consents_withdraw(records_consents_of(person), actor=_actor(request))
            if consent_withdraw(person):
                messages.success(
                    request,
                    _("已撤回同意。需要提交病历资料的服务将暂不能申请，已提交的申请不受影响。"),
                )
            return redirect("portal:consent")
        if action == "later":
            messages.info(
                request,
                _("您可以随时在“个人信息授权”页面同意；需要病历资料的服务在同意前无法办理。"),
            )
            return redirect(next_url or HOME_URL)
    record = current_consent(person)
    context = {
        "terms": health_consent_terms(person),
        "record": record,
        "needed": consent_needed(person, record),
        "next": next_url or "",
        # Standing ones to withdraw; declined or withdrawn ones of open requests to give.
        "records_consents": [
            consent
            for consent in latest_records_consents_of(person)
            if consent.standing or consent.request.status in OPEN_STATUSES
        ],
    }
    return render(request, "portal/consent.html", context)


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def latest_records_consents_of(person: Person) -> list[RecordsConsent]:
    """The latest records consent of each of the person's requests, newest first."""
    latest: dict[int, RecordsConsent] = {}
    for consent in records_consents_of(person).order_by("-answered_at", "-id")[:500]:
        latest.setdefault(consent.request_id, consent)
    return list(latest.values())


def _records_consent_action(request: HttpRequest, person: Person, action: str, ref: str) -> None:
    """Withdraw, or give again, the consent to provide one request's records to its vendor
    (one of the person's requests; giving again only while the request is open)."""
    if action == "withdraw_records":
        consents = records_consents_of(person).filter(request__ref=ref)
        if records_consents_withdraw(consents, actor=_actor(request)):
            messages.success(
                request,
                _("已撤回申请%(ref)s的资料提供同意，服务商将不能再查看该申请的资料。")
                % {"ref": ref},
            )
        return
    latest = _latest_by_ref(person).get(ref)
    if latest is None or latest.standing or latest.request.status not in OPEN_STATUSES:
        return
    records_consent_record(
        latest.request, given=True, channel=ConsentRecord.Channel.PORTAL, actor=_actor(request)
    )
    messages.success(request, _("已同意向服务商提供申请%(ref)s的资料。") % {"ref": ref})


def _latest_by_ref(person: Person) -> dict[str, RecordsConsent]:
    return {consent.request.ref: consent for consent in latest_records_consents_of(person)}


DATA_COPY_FORMATS = {
    "json": ("application/json; charset=utf-8", data_copy_json),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data_copy_xlsx),
}


@policyholder_required
@require_GET
def data_copy(request: HttpRequest, file_format: str) -> HttpResponse:
    """The person's copy of their data (PIPL art. 45), logged as an access."""
    if file_format not in DATA_COPY_FORMATS:
        raise Http404
    person = portal_person(request)
    content_type, render_copy = DATA_COPY_FORMATS[file_format]
    content = render_copy(personal_data_copy(person))
    data_copy_logged(person, user=request_user(request), file_format=file_format)
    response = HttpResponse(content, content_type=content_type)
    name = f"个人信息副本_{timezone.localdate():%Y%m%d}.{file_format}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request_user(request), label="policyholder")
