from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone


class Clock:
    """Sets what ``timezone.now()`` returns, so recorded events carry the test's times and
    pages, filters and scans see the same "now"."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime):
        self.now = now
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment


TZ = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    """An instant given as Asia/Shanghai wall-clock fields: ``at(2026, 3, 2, 10)``."""
    return datetime(*args, tzinfo=TZ)
