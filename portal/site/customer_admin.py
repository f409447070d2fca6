"""The staff search box and the customer page in admin: ``/admin/search/`` and
``/admin/customer/<person id>/`` (``portal.site.customers`` reads the data).

PIPL: the header's search box POSTs, so a phone or ID number typed there is in no URL, no
access log line and no browser history entry; ``?q=`` on a GET is also answered (a link, a
bookmark), and stays on the search page only. A single hit redirects to the customer page by
its internal id, without the term; the search page sends no Referer onwards.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from bookings.lifecycle.exports import FORMATS as EXPORT_FORMATS
from bookings.lifecycle.exports import requests_export
from portal.kernel.identity import mask_phone
from portal.kernel.tenancy import has_permission
from portal.site.customers import (
    SEARCH_LIMIT,
    customer_file,
    customer_requests,
    customer_search,
)

# Every role reads people (坐席/运营, 主管, 审计, 管理员); the page needs nothing more.
VIEW_PERMISSION = "benefits.view_person"


def _require_view(request: HttpRequest) -> None:
    if not has_permission(request.user, VIEW_PERMISSION):
        raise PermissionDenied


def search_view(request: HttpRequest, site: AdminSite) -> HttpResponse:
    _require_view(request)
    source = request.POST if request.method == "POST" else request.GET
    term = source.get("q", "").strip()
    people = customer_search(request.user, term)
    if len(people) == 1:
        return HttpResponseRedirect(reverse("admin:customer", args=[people[0].pk]))
    request.current_app = site.name
    response = TemplateResponse(
        request,
        "admin/customers/search.html",
        {
            **site.each_context(request),
            "title": _("查找客户"),
            "subtitle": None,
            "term": term,
            "rows": [
                (person, mask_phone(person.phone) if person.phone else "—") for person in people
            ],
            "limited": len(people) >= SEARCH_LIMIT,
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


def customer_view(request: HttpRequest, site: AdminSite, person_id: int) -> HttpResponse:
    _require_view(request)
    found = customer_file(request.user, person_id, timezone.now())
    request.current_app = site.name
    return TemplateResponse(
        request,
        "admin/customers/customer.html",
        {
            **site.each_context(request),
            "title": _("客户：%(name)s") % {"name": found.person.name},
            "subtitle": None,
            "file": found,
            "may_see_requests": has_permission(request.user, "bookings.view_servicerequest"),
            "may_open_documents": has_permission(request.user, "bookings.open_document"),
        },
    )


def customer_export_view(request: HttpRequest, person_id: int, file_format: str) -> HttpResponse:
    """The customer page's requests as a spreadsheet (masked unless the user may see
    identities, then logged: ``bookings.lifecycle.exports``)."""
    _require_view(request)
    if not has_permission(request.user, "bookings.view_servicerequest"):
        raise PermissionDenied
    if file_format not in EXPORT_FORMATS:
        raise Http404
    queryset = customer_requests(request.user, person_id)
    content, content_type = requests_export(queryset, user=request.user, file_format=file_format)
    response = HttpResponse(content, content_type=content_type)
    name = f"客户服务申请_{timezone.localdate():%Y%m%d}.{file_format}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def install(site: AdminSite) -> None:
    """Add both pages before the site's catch-all."""
    site_urls = site.get_urls

    @require_http_methods(["GET", "POST"])
    def search(request: HttpRequest) -> HttpResponse:
        return search_view(request, site)

    @require_http_methods(["GET"])
    def customer(request: HttpRequest, person_id: int) -> HttpResponse:
        return customer_view(request, site, person_id)

    @require_http_methods(["GET"])
    def customer_export(request: HttpRequest, person_id: int, file_format: str) -> HttpResponse:
        return customer_export_view(request, person_id, file_format)

    def get_urls() -> list:
        return [
            path(
                "customer/<int:person_id>/requests/<str:file_format>/",
                site.admin_view(customer_export),
                name="customer_requests_export",
            ),
            path("search/", site.admin_view(search), name="customer_search"),
            path("customer/<int:person_id>/", site.admin_view(customer), name="customer"),
            *site_urls(),
        ]

    site.get_urls = get_urls  # type: ignore[method-assign]
