"""Memo: built on first use, dropped when the reference data change or grow old."""

import pytest

from benefits.models import Service
from portal.kernel import memo
from portal.kernel.memo import Memo


@pytest.fixture
def built():
    calls = []
    cache = Memo("test")

    def get(key):
        return cache.get(key, lambda: calls.append(key) or f"value of {key}")

    yield get, calls
    cache.clear()


def test_a_value_is_built_once(built):
    get, calls = built
    assert get("a") == "value of a"
    assert get("a") == "value of a"
    assert calls == ["a"]


@pytest.mark.django_db
def test_saving_a_watched_model_drops_every_memo(built):
    from benefits.models import Benefit

    get, calls = built
    get("a")
    benefit = Benefit.objects.get(code="pingan.health.escort")
    benefit.save()
    get("a")
    assert calls == ["a", "a"]


@pytest.mark.django_db
def test_saving_an_unwatched_model_keeps_them(built):
    get, calls = built
    get("a")
    service = Service.objects.first()
    service.save()
    get("a")
    assert calls == ["a"]


def test_a_memo_older_than_its_maximum_age_is_rebuilt(built, monkeypatch):
    get, calls = built
    get("a")
    now = memo.time.monotonic()
    monkeypatch.setattr(memo.time, "monotonic", lambda: now + memo.MAX_AGE_SECONDS + 1)
    get("a")
    assert calls == ["a", "a"]
