"""The policyholder's request page and what they do there: add records (several at once),
take one back before review, rate the completed service. Each request is looked up through
what the logged-in person may act for (``views._own_request``): anyone else's answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bookings.documents.services import document_add, document_remove, records_supplied
from bookings.lifecycle.rating import request_rate
from bookings.lifecycle.workflow import TRANSITIONS
from bookings.models import Document
from portal.kernel.errors import DomainError
from portal.pages.access import policyholder_required
from portal.pages.detail_forms import RatingForm, UploadForm
from portal.pages.request_page import request_page
from portal.pages.views import _actor, _own_request


@policyholder_required
def request_detail(request: HttpRequest, ref: str) -> HttpResponse:
    service_request = _own_request(request, ref)
    page = request_page(service_request, user_id=request.user.pk)
    return render(
        request,
        "portal/request_detail.html",
        {
            "page": page,
            "item": service_request,
            "upload_form": UploadForm(terms=service_request.benefit.parsed_terms),
            "rating_form": RatingForm() if page.can_rate else None,
            "can_cancel": service_request.status in TRANSITIONS["cancelled"].sources,
            "can_upload": service_request.is_open,
        },
    )


@policyholder_required
@require_POST
def request_upload(request: HttpRequest, ref: str) -> HttpResponse:
    service_request = _own_request(request, ref)
    if not service_request.is_open:
        messages.error(request, _("该申请已结束，不能再上传资料"))
        return redirect("portal:request_detail", ref=ref)
    form = UploadForm(request.POST, request.FILES, terms=service_request.benefit.parsed_terms)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("portal:request_detail", ref=ref)
    added = 0
    # Each file on its own: a refused one does not undo the others, and says why.
    for upload in form.cleaned_data["file"]:
        try:
            document_add(
                service_request,
                name=upload.name,
                data=upload,
                actor=_actor(request),
                requirement=form.cleaned_data.get("requirement") or "",
            )
        except DomainError as exc:
            messages.error(request, f"{Truncator(upload.name).chars(40)}：{exc.message}")
        else:
            added += 1
    if added:
        messages.success(
            request, ngettext("已上传%(n)d个文件", "已上传%(n)d个文件", added) % {"n": added}
        )
        try:
            if records_supplied(service_request, actor=_actor(request)):
                messages.info(request, _("资料已补充，申请已重新进入审核"))
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("portal:request_detail", ref=ref)


@policyholder_required
@require_POST
def document_delete(request: HttpRequest, ref: str, document_id: int) -> HttpResponse:
    service_request = _own_request(request, ref)
    document = get_object_or_404(
        Document.objects.select_related("request"), pk=document_id, request=service_request
    )
    try:
        document_remove(document, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除“%(name)s”") % {"name": document.display_name})
    return redirect("portal:request_detail", ref=ref)


@policyholder_required
@require_POST
def request_rating(request: HttpRequest, ref: str) -> HttpResponse:
    service_request = _own_request(request, ref)
    form = RatingForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("portal:request_detail", ref=ref)
    try:
        with transaction.atomic():
            request_rate(
                service_request,
                stars=form.cleaned_data["stars"],
                comment=form.cleaned_data["comment"],
                actor=_actor(request),
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("感谢您的评价"))
    return redirect("portal:request_detail", ref=ref)
