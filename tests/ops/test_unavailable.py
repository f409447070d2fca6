"""A database that cannot be reached answers 503 (Chinese page, or JSON on the API) with
Retry-After, never a 500; a programming error stays a 500. The Redis cache fails soft.

The outage is made in process here (every query raises what psycopg raises when the server
went away); tests/ops/test_web_faults.py restarts a real PostgreSQL under gunicorn."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError, ProgrammingError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from portal.site.cache import FailSoftRedisCache
from tests.access_support import staff_bearer
from tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """From now on every query fails as it does while PostgreSQL restarts."""

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    def arm() -> None:
        monkeypatch.setattr(CursorWrapper, "execute", refuse)
        monkeypatch.setattr(CursorWrapper, "executemany", refuse)

    return arm


def test_a_portal_page_is_the_chinese_503_page_while_the_database_is_down(database_down):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-would-hold"
    database_down()
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "服务暂时不可用" in page and "5 秒后" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_the_staff_api_is_a_json_503_while_the_database_is_down(database_down):
    headers = staff_bearer(staff_member("operator", insurers=["pingan"]))
    client = Client(raise_request_exception=False)
    assert client.get("/api/staff/v1/me", headers=headers).status_code == 200
    database_down()
    response = client.get("/api/staff/v1/me", headers=headers)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "service_unavailable",
        "message": "服务暂时不可用，请稍后重试",
    }


def test_a_programming_error_is_still_a_500(monkeypatch):
    def broken(*args, **kwargs):
        raise ProgrammingError("relation does not exist")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-would-hold"
    assert client.get("/").status_code == 500


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_cache_turns_a_stopped_redis_into_misses_not_errors():
    cache = FailSoftRedisCache(f"redis://127.0.0.1:{closed_port()}/1", {})
    cache.set("key", "value")
    assert cache.get("key", "default") == "default"
    assert cache.get_many(["key"]) == {}
    assert cache.add("key", "value") is False
    cache.set_many({"a": 1, "b": 2})
    assert cache.get("a") is None
    assert cache.delete("key") is False
    assert cache.has_key("key") is False
