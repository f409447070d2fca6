"""A page of our own in the Django admin (a dashboard, a report): its URL before the site's
catch-all, and an entry in its app's list shown to whoever holds the page's permission.

One helper for every such page, so the admin's app list and URLs are patched one way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse


def admin_page_install(
    site: AdminSite,
    *,
    route: str,
    view: Callable[[HttpRequest, AdminSite], HttpResponse],
    url_name: str,
    listed_in: str,
    position: int,
    name: Callable[[], str],
    object_name: str,
    may_view: Callable[[Any], bool],
) -> None:
    """Serve ``view`` at ``route`` (behind the admin login) and list it ``position``-th in
    ``listed_in``'s models for users ``may_view`` accepts; ``name`` is called per request
    (translated then)."""
    site_urls = site.get_urls
    site_app_list = site.get_app_list

    def page(request: HttpRequest) -> HttpResponse:
        return view(request, site)

    def get_urls() -> list:
        return [path(route, site.admin_view(page), name=url_name), *site_urls()]

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = site_app_list(request, app_label)
        if not may_view(request.user):
            return apps
        entry = {
            "model": None,
            "name": name(),
            "object_name": object_name,
            "perms": {"add": False, "change": False, "delete": False, "view": True},
            "admin_url": reverse(f"admin:{url_name}", current_app=site.name),
            "add_url": None,
            "view_only": True,
        }
        for app in apps:
            if app["app_label"] == listed_in:
                app["models"].insert(position, entry)
        return apps

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.get_app_list = get_app_list  # type: ignore[method-assign]
