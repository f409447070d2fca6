from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from portal.pages import (
    auth_views,
    complaint_views,
    privacy_views,
    request_views,
    views,
    where_views,
)
from portal.site import health
from portal.site.api import api, vendor_api

admin.site.site_header = _("健康服务平台 · 保险公司管理后台")
admin.site.site_title = _("健康服务平台")
admin.site.index_title = _("运营管理")

# The policyholder portal, namespace ``portal``. No personal data in any URL: requests are
# named by their random reference, members and files by internal ids checked per person.
portal_patterns = [
    path("", views.home, name="home"),
    path(
        "members/<int:member_id>/benefits/<str:benefit_code>/",
        views.benefit_detail,
        name="benefit_detail",
    ),
    path(
        "members/<int:member_id>/benefits/<str:benefit_code>/request/",
        views.request_new,
        name="request_new",
    ),
    path(
        "members/<int:member_id>/benefits/<str:benefit_code>/request/places/",
        views.place_picker,
        name="place_picker",
    ),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<str:ref>/", request_views.request_detail, name="request_detail"),
    path("requests/<str:ref>/upload/", request_views.request_upload, name="request_upload"),
    path("requests/<str:ref>/rating/", request_views.request_rating, name="request_rating"),
    path("requests/<str:ref>/cancel/", views.request_cancel, name="request_cancel"),
    path(
        "requests/<str:ref>/documents/<int:document_id>/", views.document_file, name="document_file"
    ),
    path(
        "requests/<str:ref>/documents/<int:document_id>/delete/",
        request_views.document_delete,
        name="document_delete",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("complaints/", complaint_views.complaint_list, name="complaint_list"),
    path("complaints/new/", complaint_views.complaint_new, name="complaint_new"),
    path("privacy/consent/", privacy_views.consent, name="consent"),
    path(
        "privacy/my-data.<str:file_format>",
        privacy_views.data_copy,
        name="data_copy",
    ),
    path("where/", where_views.where_index, name="where"),
    path("where/<str:benefit_code>/", where_views.where_benefit, name="where_benefit"),
    path("login/", auth_views.login_phone, name="login"),
    path("login/code/", auth_views.login_code, name="login_code"),
    path("login/bind/", auth_views.login_bind, name="login_bind"),
    path("logout/", auth_views.logout_view, name="logout"),
]


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico, which browsers ask for on their own: the portal's SVG icon."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),  # public
    path("healthz", health.healthz, name="healthz"),  # public: the process answers
    path("readyz", health.readyz, name="readyz"),  # public: database, cache, broker
    path("admin/", admin.site.urls),
    path("api/vendor/v1/", vendor_api.urls),  # the vendor API and its docs
    path("api/", api.urls),  # the staff API, docs at /api/docs (staff login)
    path("vendor/", include("portal.vendor.urls")),  # the vendor workbench (portal.vendor)
    path("", include((portal_patterns, "portal"))),
]

# Chinese pages in the portal's layout, JSON under /api/ (portal.site.errors); a database
# outage answers 503 (Chinese page or JSON), any other uncaught error 500.
handler400 = "portal.site.errors.bad_request"
handler403 = "portal.site.errors.permission_denied"
handler404 = "portal.site.errors.page_not_found"
handler500 = "portal.site.errors.server_error"
