"""The API docs as an integrator opens them behind the Great Firewall or offline: every
asset from our own host, the vendor's docs apart from the staff's (which need a staff
login), and the conventions an integrator must know written in the docs themselves."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders

from portal.site.api import api, vendor_api

pytestmark = pytest.mark.django_db
STAFF_DOCS = "/api/docs"
VENDOR_DOCS = "/api/vendor/v1/docs"


class AssetCollector(HTMLParser):
    """Every URL a page makes the browser load or link to, and its inline scripts' types."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_script_types: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "data-src", "action", "poster"):
            if found.get(name):
                self.urls.append(found[name] or "")
        if tag == "script" and not found.get("src"):
            self.inline_script_types.append(found.get("type") or "text/javascript")


def assets(html: str) -> AssetCollector:
    collector = AssetCollector()
    collector.feed(html)
    return collector


@pytest.mark.parametrize("url", [STAFF_DOCS, VENDOR_DOCS])
def test_the_docs_load_no_asset_from_another_host(client, superuser, url):
    client.force_login(superuser)
    response = client.get(url)

    assert response.status_code == 200
    page = assets(response.content.decode())
    assert page.urls, "the docs page names its scripts and styles"
    external = [u for u in page.urls if urlsplit(u).scheme or urlsplit(u).netloc]
    assert external == []
    # Each asset is one of our static files, so the page works with no network at all.
    for asset in page.urls:
        path = urlsplit(asset).path
        assert path.startswith("/static/"), asset
        assert finders.find(path.removeprefix("/static/")), f"{asset} is not served"
    # The only inline script is the settings JSON, which the CSP never has to run.
    assert page.inline_script_types == ["application/json"]
    assert "cdn" not in response.content.decode().lower()


def test_the_staff_docs_and_schema_need_a_staff_login(client, staff_user):
    for url in (STAFF_DOCS, "/api/openapi.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    client.force_login(staff_user)
    assert client.get(STAFF_DOCS).status_code == 200
    assert "/api/staff/v1/me" in client.get("/api/openapi.json").json()["paths"]


def test_the_vendor_docs_show_the_vendor_api_only_and_need_no_login(client):
    schema = client.get("/api/vendor/v1/openapi.json").json()

    assert client.get(VENDOR_DOCS).status_code == 200
    assert schema["paths"]
    assert all(path.startswith("/api/vendor/v1/") for path in schema["paths"])
    staff_paths = api.get_openapi_schema()["paths"]
    assert not [path for path in staff_paths if path.startswith("/api/vendor/")]


def test_the_vendor_docs_explain_webhooks_signatures_rate_limits_and_idempotency():
    text = vendor_api.get_openapi_schema()["info"]["description"]

    for needle in (
        "request.assigned",  # the event
        '"delivery_id"',  # the payload
        "X-Signature: sha256=",
        "hmac.compare_digest",  # the verification example
        "1分钟、5分钟、30分钟、2小时、6小时、24小时",  # the retry schedule from webhooks.py
        "共尝试 7 次",
        "120 次",  # VENDOR_RATE
        "Retry-After",
        "Idempotency-Key: ",  # the curl example
        "Idempotent-Replayed: true",
        "idempotency_key_reused",
    ):
        assert needle in text, needle


def test_the_staff_docs_explain_idempotency_and_rate_limits():
    text = api.get_openapi_schema()["info"]["description"]
    assert "Idempotency-Key: " in text and "限流" in text and "/api/vendor/v1/docs" in text


@pytest.mark.parametrize("target", [api, vendor_api], ids=["staff", "vendor"])
def test_every_operation_declares_the_client_errors_it_can_answer(target):
    schema = target.get_openapi_schema()
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = {str(code) for code in operation["responses"]}
            needed = {"401"} if operation.get("security") else set()
            # Any parameter but a plain string in the path can be refused.
            checked = [
                p
                for p in operation.get("parameters", [])
                if p["in"] != "path" or p["schema"].get("type") != "string"
            ]
            if checked or operation.get("requestBody"):
                needed.add("422")
            if operation.get("requestBody"):
                needed.add("400")  # a body that does not parse
            if "{" in path:
                needed.add("404")
            if gaps := sorted(needed - declared):
                missing.append(f"{method.upper()} {path}: {gaps}")
    assert missing == []
