"""Process-local memos of reference data (benefit terms, regions, coverage lists) that hot
endpoints read on every call, so that each call does not re-run and re-compile the same
catalogue queries.

Invalidation: a version token lives in Django's cache (shared by every process when the cache
is Redis, as in production). Saving or deleting a watched model replaces the token at once and
again when the transaction commits, so no process keeps a memo built before the commit; every
memo is dropped when it sees a new token. Writes that send no model signals (bulk loads of
regions) are covered by ``MAX_AGE_SECONDS``: past it a memo is rebuilt whatever the token says.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "reference-data-version"
# Upper bound on staleness for changes no signal reports (and for caches not shared between
# processes); catalogue and region data change a few times a year.
MAX_AGE_SECONDS = 300
# Models whose rows the memos are built from. Not the rows of a list (CoverageListMember,
# ListEntry): a delete receiver on them would stop Django's fast delete, and an annex import
# replaces tens of thousands of rows; every import that changes a list saves its CoverageList
# (new content digest), which is the signal.
REFERENCE_MODELS = (
    "benefits.Benefit",
    "benefits.Product",
    "benefits.CalendarDay",
    "benefits.CalendarYear",
    "coverage.CoverageList",
    "coverage.Region",
    "coverage.RegionAlias",
)

_MISSING = object()


def reference_version(key: str = VERSION_KEY) -> str:
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        # add(): two processes starting together agree on the first token.
        if not cache.add(key, version, timeout=None):
            version = cache.get(key) or version
    return version


def version_bumper(key: str) -> Callable[..., None]:
    """A signal receiver that replaces the token ``key``: now (this process, this
    transaction) and again at commit."""

    def receiver(**kwargs: Any) -> None:
        def bump() -> None:
            cache.set(key, uuid.uuid4().hex, timeout=None)

        bump()
        transaction.on_commit(bump, using=kwargs.get("using"))

    return receiver


reference_data_changed = version_bumper(VERSION_KEY)


def connect_signals() -> None:
    """Watch every reference model; safe to call more than once."""
    for label in REFERENCE_MODELS:
        model = apps.get_model(label)
        for signal in (post_save, post_delete):
            signal.connect(reference_data_changed, sender=model, dispatch_uid=f"memo:{label}")
    benefit = apps.get_model("benefits.Benefit")
    m2m_changed.connect(
        reference_data_changed,
        sender=benefit.coverage_lists.through,
        dispatch_uid="memo:benefit-lists",
    )


class Memo[V]:
    """A dictionary of values built on first use and dropped when the reference data change."""

    _all: list[Memo[Any]] = []

    def __init__(self, name: str, *, version_key: str = VERSION_KEY):
        self.name = name
        self.version_key = version_key
        self._values: dict[Hashable, V] = {}
        self._version: str | None = None
        self._born = 0.0
        self._lock = threading.Lock()
        Memo._all.append(self)

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        version = reference_version(self.version_key)
        now = time.monotonic()
        if version != self._version or now - self._born > MAX_AGE_SECONDS:
            with self._lock:
                self._values = {}
                self._version, self._born = version, now
        # Built into the dictionary of the version read above: if the data change meanwhile,
        # the value lands in a dictionary already replaced, never in the new one.
        values = self._values
        value = values.get(key, _MISSING)
        if value is _MISSING:
            value = build()
            values[key] = value
        return value  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._values = {}
            self._version = None

    @classmethod
    def clear_all(cls) -> None:
        """Tests: forget everything (rolled-back transactions send no signal)."""
        for memo in cls._all:
            memo.clear()
