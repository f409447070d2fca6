from datetime import datetime

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
