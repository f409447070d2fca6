"""Workload and trends (issue 16 part 3): open requests and those due today per staff member
and per vendor, weekly volume and SLA attainment per benefit and vendor as server-drawn
charts, exportable — only of the viewer's insurers, in a fixed number of queries."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bookings.lifecycle.services import request_transition
from bookings.models import Milestone, ServiceRequest
from bookings.sla.trends import week_of, workload
from portal.kernel.actor import Actor
from tests.factories import outpatient_request, staff_member

pytestmark = pytest.mark.django_db
PAGE = reverse("admin:bookings_workload")
OPS = Actor(label="insurer:ops")
State = Milestone.State


def fresh(number: str) -> ServiceRequest:
    return outpatient_request(number=number, at=timezone.now())


def decide(request: ServiceRequest, state: str, due_in: timedelta = timedelta(0)) -> None:
    """Make the request's first deadline ``state``, due now + ``due_in``."""
    milestone = request.milestones.order_by("id").first()
    assert milestone is not None, "the benefit promises a deadline"
    Milestone.objects.filter(pk=milestone.pk).update(
        state=state, due_at=timezone.now() + due_in, met_at=timezone.now()
    )


def a_desk() -> dict[str, ServiceRequest]:
    """Three requests of 平安: one the operator works, assigned to the benefit's vendor and
    due within the hour; one nobody has taken; one completed (not open)."""
    mine, nobodys, done = fresh("WL-1"), fresh("WL-2"), fresh("WL-3")
    for request in (mine, done):
        request_transition(request, "approved", actor=OPS)
        request_transition(request, "assigned", actor=OPS, vendor=request.benefit.vendor)
    request_transition(done, "completed", actor=OPS)
    # only the deadlines set below count: the rest are cancelled
    Milestone.objects.filter(request__in=[mine, nobodys, done]).update(state=State.CANCELLED)
    decide(mine, State.PENDING, timedelta(minutes=30))
    decide(nobodys, State.PENDING, timedelta(days=3))
    decide(done, State.MET)
    return {"mine": mine, "nobodys": nobodys, "done": done}


def row(page: str, table: str, name: str) -> list[str]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S).group(1)
    found = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", body, re.S)
    assert found, f"no row {name} in {table}"
    return re.findall(r'<td class="num">(\d+)</td>', found.group(1))


def test_workload_per_staff_member_and_vendor_counts_open_and_due_today(client):
    desk = a_desk()
    me = staff_member("operator", ["pingan"])
    ServiceRequest.objects.filter(pk=desk["mine"].pk).update(assignee=me)
    client.force_login(me)
    page = client.get(PAGE).text
    assert row(page, "workload-staff", me.username) == ["1", "1"]  # open, due today
    assert row(page, "workload-staff", "未分配") == ["1", "0"]
    vendor = desk["mine"].benefit.vendor.name
    assert row(page, "workload-vendors", vendor) == ["1", "1"]  # the completed one is not open
    assert row(page, "workload-vendors", "未派单") == ["1", "0"]


def test_weekly_volume_and_attainment_per_benefit_and_vendor():
    # given this week's three requests, one deadline met and one breached
    desk = a_desk()
    decide(desk["mine"], State.BREACHED)
    now = timezone.now()
    this_week = week_of(timezone.localdate())
    # when the figures are read
    data = workload(
        now=now, requests=ServiceRequest.objects.all(), milestones=Milestone.objects.all()
    )
    # then this week has 3 requests of the benefit, and 1 of 2 deadlines kept (50 %)
    benefit = f"{desk['mine'].benefit.product.name} · {desk['mine'].benefit.name}"
    volume = {s.name: s for s in data.volume_by_benefit.series}
    assert volume[benefit].values[this_week] == 3
    assert len(data.volume_by_benefit.weeks) == 12 and data.volume_by_benefit.weeks[-1] == this_week
    attainment = {s.name: s for s in data.attainment_by_vendor.series}
    assert str(attainment[desk["mine"].benefit.vendor.name].values[this_week]) == "50.0"
    earlier = data.attainment_by_vendor.weeks[0]
    assert attainment[desk["mine"].benefit.vendor.name].values[earlier] is None  # nothing decided


def test_the_page_draws_its_charts_on_the_server_with_no_outside_asset(client):
    a_desk()
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(PAGE).text
    assert page.count('<svg class="trend-chart"') == 4
    assert "<polyline" in page and "每周时效达成率%（按服务商）" in page
    assert re.search(r'(src|href)="https?://', page) is None


def test_the_bookings_app_list_links_to_the_page(client):
    client.force_login(staff_member("operator", ["pingan"]))
    index = client.get(reverse("admin:app_list", args=["bookings"])).text
    assert f'href="{PAGE}"' in index and "工作量与趋势" in index


def test_another_insurers_requests_are_not_counted(client):
    a_desk()
    client.force_login(staff_member("operator", ["axa"]))
    page = client.get(PAGE).text
    assert "没有在办的申请" in page and "门诊协助" not in page


def test_the_figures_export_to_excel(client):
    desk = a_desk()
    client.force_login(staff_member("operator", ["pingan"]))
    response = client.get(PAGE, {"download": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["指标", "名称", "周（周一）", "数值"]
    vendor = desk["mine"].benefit.vendor.name
    assert ["服务商在办", vendor, None, 1] in rows
    this_week = f"{week_of(timezone.localdate()):%Y-%m-%d}"
    assert next(r for r in rows if r[0] == "每周申请量（按权益）" and r[2] == this_week)[3] == 3
    assert client.get(PAGE, {"download": "exe"}).status_code == 404


def test_the_page_reads_the_same_queries_for_more_requests(client, django_assert_num_queries):
    a_desk()
    client.force_login(staff_member("operator", ["pingan"]))
    client.get(PAGE)  # warm the per-process memos

    # session, user, then six grouped figures (staff, vendors, two volumes, two attainments)
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        return len(queries)

    few = count()
    for index in range(5):
        fresh(f"WL-MORE-{index}")
    assert count() == few
    with django_assert_num_queries(few):
        client.get(PAGE)
    assert few <= 10


def test_a_deadline_met_early_that_falls_due_after_this_week_is_not_charted(client):
    # given the unassigned request's deadline met today but due in three weeks
    desk = a_desk()
    decide(desk["nobodys"], State.MET, timedelta(weeks=3))
    client.force_login(staff_member("operator", ["pingan"]))
    # when the figures are read and exported
    data = workload(
        now=timezone.now(),
        requests=ServiceRequest.objects.all(),
        milestones=Milestone.objects.all(),
    )
    response = client.get(PAGE, {"download": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == "每周时效达成率%（按服务商）"]
    # then no week beyond the window is counted, and no empty 未派单 line is drawn for it
    for series in data.attainment_by_vendor.series:
        assert set(series.values) == set(data.attainment_by_vendor.weeks)
    assert {r[1] for r in rows} == {desk["done"].benefit.vendor.name}
    this_week = f"{week_of(timezone.localdate()):%Y-%m-%d}"
    assert next(r for r in rows if r[2] == this_week)[3] == "100.0"
