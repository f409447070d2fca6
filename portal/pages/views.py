"""The policyholder's pages: benefits, request a service, requests and their timeline,
records, cancellation, notifications. Each view is a thin caller of the selectors and
services; each object is looked up through what the logged-in person may act for, so
anyone else's answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from benefits.models import Benefit, PolicyMember
from benefits.policies.consent import consent_problem
from benefits.terms import display as terms_display
from bookings.documents.services import document_add, document_open
from bookings.lifecycle.cancellation import request_cancel_preview
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.submission import (
    NotEligible,
    RequestInput,
    next_step_text,
    request_submit,
    request_verdict,
    submission_consent_problem,
)
from bookings.models import Document, Notification, ServiceRequest
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from portal.kernel.tenancy import request_user
from portal.pages import selectors
from portal.pages.access import actable_members, policyholder_required, portal_person
from portal.pages.cancel_form import CancelForm
from portal.pages.request_forms import PICKER_FIELDS, ServiceRequestForm
from portal.pages.selectors import portal_overview, requests_for
from portal.pages.where_views import benefit_networks


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request_user(request), label="policyholder")


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _own_request(request: HttpRequest, ref: str) -> ServiceRequest:
    person = portal_person(request)
    service_request = (
        requests_for(person, timezone.localdate())
        .filter(ref=ref)
        .select_related("vendor", "region", "policy__product__insurer")
        .first()
    )
    if service_request is None:
        raise Http404
    return service_request


def _member_param(request: HttpRequest) -> int | None:
    value = request.GET.get("member", "")
    return int(value) if value.isdigit() else None


@policyholder_required
def home(request: HttpRequest) -> HttpResponse:
    """我的权益: one screen per member and policy, the others a tap away on the selector."""
    person = portal_person(request)
    overview = portal_overview(person, timezone.now(), _member_param(request))
    unread = Notification.objects.filter(person=person, read_at__isnull=True).count()
    return render(request, "portal/home.html", {"overview": overview, "unread": unread})


@policyholder_required
def benefit_detail(request: HttpRequest, member_id: int, benefit_code: str) -> HttpResponse:
    """One benefit of one member: what it is, what is left, every reason it cannot be used."""
    found = selectors.benefit_detail(
        portal_person(request), timezone.now(), member_id, benefit_code
    )
    if found is None:
        raise Http404
    member, line = found
    terms = line.benefit.parsed_terms
    return render(
        request,
        "portal/benefit_detail.html",
        {
            "member": member,
            "line": line,
            "summary": terms.summary,
            "promises": [terms_display.milestone(m) for m in terms.sla],
        },
    )


def _member_and_benefit(
    request: HttpRequest, member_id: int, benefit_code: str
) -> tuple[PolicyMember, Benefit, list[PolicyMember]]:
    """The member (one the logged-in person acts for), the benefit of their product and the
    member's family on the policy; anything else answers 404."""
    person = portal_person(request)
    member = next((m for m in actable_members(person) if m.pk == member_id), None)
    if member is None:
        raise Http404
    benefit = get_object_or_404(Benefit, code=benefit_code, product_id=member.policy.product_id)
    family = [
        m
        for m in PolicyMember.objects.filter(policy_id=member.policy_id)
        .exclude(pk=member.pk)
        .select_related("person")
    ]
    return member, benefit, family


def _echo(data: QueryDict) -> dict[str, object]:
    """Posted or queried values as a form's initial data (lists kept for multiple choices)."""
    return {key: values if len(values) > 1 else values[0] for key, values in data.lists()}


@policyholder_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, member_id: int, benefit_code: str) -> HttpResponse:
    member, benefit, family = _member_and_benefit(request, member_id, benefit_code)
    family_by_pk = {m.pk: m for m in [member, *family]}
    refreshing = request.method == "POST" and "pick" in request.POST
    if refreshing:
        # Without JavaScript, "更新列表" posts the form back to offer the next choices: shown
        # again as typed, unchecked (no errors for fields not filled in yet).
        form = ServiceRequestForm(
            initial=_echo(request.POST), benefit=benefit, member=member, family=family
        )
    else:
        form = ServiceRequestForm(
            request.POST or None,
            request.FILES or None,
            benefit=benefit,
            member=member,
            family=family,
            asked=_asked(member, benefit),
        )
    verdict = None
    if request.method == "POST" and not refreshing and form.is_valid():
        data = form.to_input(policy=member.policy, family_by_pk=family_by_pk, at=timezone.now())
        if "check" in request.POST:
            try:
                verdict = request_verdict(data)
            except DomainError as exc:  # as on submit: the form says why, never a 500
                form.add_error(None, exc.message)
            if (refused := submission_consent_problem(data)) is not None:
                form.add_error(None, refused.message)  # what submitting would answer
                verdict = None
        else:
            try:
                with transaction.atomic():
                    service_request, created = request_submit(data, actor=_actor(request))
            except NotEligible as refused:
                verdict = refused.verdict
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                if created:
                    _attach(request, service_request, form)
                    messages.success(
                        request,
                        _("申请已提交（编号%(ref)s）。%(next)s")
                        % {
                            "ref": service_request.ref,
                            "next": next_step_text(benefit.parsed_terms),
                        },
                    )
                return redirect("portal:request_detail", ref=service_request.ref)
    return render(
        request,
        "portal/request_form.html",
        {
            "form": form,
            "benefit": benefit,
            "member": member,
            "verdict": verdict,
            "summary": benefit.parsed_terms.summary,
            "cancellation": terms_display.cancellation(benefit.parsed_terms.cancellation)
            if benefit.parsed_terms.cancellation
            else [],
            "promises": [terms_display.milestone(m) for m in benefit.parsed_terms.sla],
            "where_url": reverse("portal:where_benefit", args=[benefit.code])
            if benefit_networks(benefit)
            else None,
            "consent_refusal": consent_problem(
                benefit.parsed_terms, (member.policy.holder_id, member.person_id)
            ),
            **_picker_context(form, member, benefit),
        },
    )


def _picker_context(form: ServiceRequestForm, member: PolicyMember, benefit: Benefit) -> dict:
    if "province" not in form.fields:
        return {"picker_names": ()}
    return {
        "picker_names": PICKER_FIELDS,
        "picker_fields": [form[name] for name in PICKER_FIELDS[:3]],
        "picker_url": reverse("portal:place_picker", args=[member.pk, benefit.code]),
    }


@policyholder_required
@require_GET
def place_picker(request: HttpRequest, member_id: int, benefit_code: str) -> HttpResponse:
    """The 省/市/区 group again for the choices so far, with the hospitals of that city as
    an out-of-band datalist (htmx asks for it when a choice changes)."""
    member, benefit, family = _member_and_benefit(request, member_id, benefit_code)
    form = ServiceRequestForm(
        initial=_echo(request.GET), benefit=benefit, member=member, family=family
    )
    if "province" not in form.fields:
        raise Http404
    context = {"form": form, "oob": True, **_picker_context(form, member, benefit)}
    return render(request, "portal/_place_picker.html", context)


def _asked(member: PolicyMember, benefit: Benefit) -> dict[str, str]:
    """What the engine asks for before it can decide (fact → Chinese message), for this
    member and benefit with no facts of the use given."""
    empty = RequestInput(policy=member.policy, member=member, benefit=benefit, at=timezone.now())
    try:
        verdict = request_verdict(empty)
    except DomainError:  # outside the policy period: the verdict on submit says why
        return {}
    return {item.fact: item.message for item in verdict.missing}


def _attach(
    request: HttpRequest, service_request: ServiceRequest, form: ServiceRequestForm
) -> None:
    """Files sent with the form: each is checked on its own; a refused file does not undo
    the request, the policyholder is told which one and why."""
    for requirement, upload in form.document_fields():
        if upload is None:
            continue
        try:
            document_add(
                service_request,
                name=upload.name or "",  # never None: the parser keeps only named files
                data=upload,
                actor=_actor(request),
                requirement=requirement,
            )
        except DomainError as exc:
            messages.warning(request, f"{upload.name}：{exc.message}")


@policyholder_required
def request_list(request: HttpRequest) -> HttpResponse:
    person = portal_person(request)
    requests = list(requests_for(person, timezone.localdate())[:200])
    return render(request, "portal/request_list.html", {"requests": requests})


@policyholder_required
def document_file(request: HttpRequest, ref: str, document_id: int) -> FileResponse:
    service_request = _own_request(request, ref)
    # A file deleted after its retention period is gone: the list says so, the link is not shown.
    document = get_object_or_404(
        Document, pk=document_id, request=service_request, purged_at__isnull=True
    )
    # An image's preview on the request page is an access too, logged as such.
    purpose = "portal_preview" if request.GET.get("preview") else "portal_view"
    handle = document_open(document, actor=_actor(request), purpose=purpose, ip=_client_ip(request))
    response = FileResponse(
        handle,
        content_type=document.content_type,
        as_attachment=bool(document.flags) or document.content_type == "image/heic",
        filename=document.display_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@policyholder_required
@require_http_methods(["GET", "POST"])
def request_cancel(request: HttpRequest, ref: str) -> HttpResponse:
    service_request = _own_request(request, ref)
    try:
        outcome = request_cancel_preview(service_request, cause="member")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:request_detail", ref=ref)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The policyholder cancels for themself: the member's own cause, whatever is posted.
            request_transition(
                service_request,
                "cancelled",
                actor=_actor(request),
                reason=form.reason_text(),
                cause="member",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("申请已取消。") + outcome.message)
        return redirect("portal:request_detail", ref=ref)
    return render(
        request,
        "portal/request_cancel.html",
        {"item": service_request, "outcome": outcome, "form": form},
    )


@policyholder_required
def notifications(request: HttpRequest) -> HttpResponse:
    person = portal_person(request)
    # Notifications go to the holder; an insured adult sees those of their own requests too.
    visible = Notification.objects.filter(
        Q(person=person) | Q(request__in=requests_for(person, timezone.localdate()).values("pk"))
    )
    items = list(visible.select_related("request").order_by("-created_at", "-id")[:100])
    visible.filter(read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "portal/notifications.html", {"items": items})
