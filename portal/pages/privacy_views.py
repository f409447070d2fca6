"""个人信息授权: the policyholder reads the consent to process health information (its
purpose and the vendors who receive it), gives it (asked right after the first binding) or
withdraws it. The rules live in ``benefits.policies.consent``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from benefits.policies.consent import (
    consent_grant,
    consent_needed,
    consent_withdraw,
    current_consent,
    health_consent_terms,
)
from benefits.policies.consents import ConsentRecord
from portal.kernel.tenancy import request_user
from portal.pages.access import policyholder_required, portal_person

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
        if action == "withdraw":
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
    }
    return render(request, "portal/consent.html", context)


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None
