"""/healthz answers without the database; /readyz names what is down, quickly, without a 500."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def test_healthz_answers_ok_without_a_query(client: Client, django_assert_num_queries):
    with django_assert_num_queries(0):  # no query at all: the database may be down
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_needs_no_login_and_sets_no_cookie(client: Client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.cookies == {}
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Request-ID"]


def test_healthz_refuses_writes(client: Client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.skipif(not redis_answers(settings.REDIS_URL), reason="no Redis at REDIS_URL")
def test_readyz_is_200_with_every_check_when_all_answer(client: Client, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert response.cookies == {}


def test_readyz_is_503_naming_the_broker_on_a_closed_port_within_2_seconds(
    client: Client, settings
):
    # given a broker URL on a port nothing listens on (a real connection attempt, no mock)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    # when the orchestrator asks
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    # then 503 naming the broker, the others ok, no internals, in time
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "broker": "failed"},
        "failed": ["broker"],
    }
    assert "127.0.0.1" not in response.text and "Error" not in response.text
    assert elapsed < 2
    assert response.cookies == {}


def test_readyz_is_503_when_the_broker_does_not_answer_within_its_timeout(client: Client, settings):
    # given a "broker" that accepts connections and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        # when the orchestrator asks
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    # then the 1 s socket timeout answers, well within 2 s
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert elapsed < 2


def test_readyz_is_503_naming_the_cache_when_it_fails(client: Client, settings, monkeypatch):
    from portal.site import health

    def broken() -> None:
        raise ConnectionError("cache down")

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache", "broker"]
    assert "cache down" not in response.text


def test_the_probes_are_not_redirected_to_https(settings):
    # given the production setting (HTTPS redirect on; the test settings turn it off)
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    # then the probes answer over plain HTTP, other pages are redirected
    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301
