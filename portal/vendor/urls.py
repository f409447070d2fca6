"""The vendor workbench, namespace ``vendor``: requests named by their random reference,
files by id checked against the vendor."""

from django.urls import path

from portal.vendor import auth_views, views

app_name = "vendor"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.login_password, name="login"),
    path("login/code/", auth_views.login_code, name="login_code"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("requests/<str:ref>/", views.request_detail, name="request_detail"),
    path("requests/<str:ref>/events/", views.request_event, name="request_event"),
    path("requests/<str:ref>/consumption/", views.request_consumption, name="request_consumption"),
    path("requests/<str:ref>/deliverables/", views.request_deliverable, name="request_deliverable"),
    path(
        "requests/<str:ref>/documents/<int:document_id>/", views.document_file, name="document_file"
    ),
]
