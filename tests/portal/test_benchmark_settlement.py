"""The settlement benchmark runs small and reports what it is for: the same number of
queries for a statement of 1,000 services and of more, the three timings and the ratio; it
leaves nothing behind."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from bookings.models import ServiceRequest, VendorStatement

pytestmark = pytest.mark.django_db


def test_the_settlement_benchmark_runs_small_and_prints_equal_query_counts_and_its_ratio():
    out = StringIO()
    call_command("benchmark_settlement", services=3000, seconds=0.3, rounds=1, stdout=out)
    text = out.getvalue()
    counts = re.findall(r"结算单查询数：(\d+)（([\d,]+) 项服务）", text)
    assert [label for _count, label in counts] == ["1,000", "3,000"], text
    assert counts[0][0] == counts[1][0] and "查询数相同" in text
    assert re.search(r"速度之比 \d+\.\d\d（结算 ÷ 原始查询，目标 ≥ 0.3）", text), text
    assert not ServiceRequest.objects.exists() and not VendorStatement.objects.exists()
