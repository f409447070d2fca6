"""The 我的权益 benchmark runs in a moment and reports what it is for: the same number of
queries for a member alone and for a family of 8 on 2 policies, and a throughput ratio."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from portal.models import PolicyholderAccount

pytestmark = pytest.mark.django_db


def test_the_portal_benchmark_runs_tiny_and_prints_equal_query_counts_and_its_ratio():
    out = StringIO()
    call_command("benchmark_portal", seconds=0.2, rounds=1, stdout=out)
    text = out.getvalue()
    counts = re.findall(r"“我的权益”查询数：(\d+)", text)
    assert len(counts) == 2 and counts[0] == counts[1], text
    assert "查询数相同" in text
    assert re.search(r"吞吐量之比 \d+\.\d\d（目标 ≥ 0.25）", text), text
    assert not PolicyholderAccount.objects.exists()  # it leaves nothing behind
