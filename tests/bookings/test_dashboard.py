"""The insurer's SLA dashboard in admin (服务时效看板): counts that lead into the queue's
deadline filters, the most urgent pending promises with the time left, each vendor's
scorecard with its chart, who may open it, and what it costs in queries."""

from __future__ import annotations

import html
import itertools
import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from benefits.models import Benefit, Vendor
from bookings.lifecycle.services import request_transition
from bookings.models import Milestone, ServiceRequest
from bookings.sla.admin import time_left_text
from bookings.sla.dashboard import QUERIES_PER_VENDOR, deadline_counts, sla_dashboard
from portal.kernel.actor import Actor
from tests.clock import Clock, at
from tests.factories import (
    OUTPATIENT_ASSIST,
    StaffFactory,
    UserFactory,
    outpatient_request,
    staff_member,
)

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
BENEFIT = OUTPATIENT_ASSIST  # contact within 2 working hours, 9:00-21:00


NOW = at(2026, 3, 3, 20, 45)  # a Tuesday evening
SERIALS = itertools.count()


@pytest.fixture
def clock(monkeypatch):
    """The page and the queue's filters see the same "now" as the requests' events."""
    return Clock(monkeypatch, NOW)


def dashboard_url() -> str:
    return reverse("admin:bookings_dashboard")


def submit(clock: Clock, when: datetime) -> ServiceRequest:
    """平安 门诊协助 for a new policy; its clocks start on submission."""
    clock.set(when)
    serial = next(SERIALS)
    request = outpatient_request(
        number=f"DASH-{serial}",
        at=when,
        actor=OPS,
        name="林一",
        # distinct birth dates: ID numbers only vary in 1,000 serials per birth date
        born=date(1970, 1, 1) + timedelta(days=serial),
        effective_on=date(2025, 12, 1),
        expires_on=date(2027, 11, 30),
    )
    clock.set(NOW)
    return request


def step(clock: Clock, request: ServiceRequest, event: str, when: datetime, **data) -> None:
    clock.set(when)
    request_transition(request, event, actor=OPS, **data)
    clock.set(NOW)


def contacted(clock: Clock, submitted: datetime, done: datetime, vendor: Vendor) -> None:
    """A request assigned to ``vendor`` five minutes after submission, contact at ``done``."""
    request = submit(clock, submitted)
    step(clock, request, "approved", submitted + timedelta(minutes=5))
    step(clock, request, "assigned", submitted + timedelta(minutes=5), vendor=vendor)
    step(clock, request, "contacted", done)


def outpatient_vendor() -> Vendor:
    return Benefit.objects.get(code=BENEFIT).vendor


@pytest.fixture
def deadlines(clock):
    """One request of each kind the dashboard counts, seen on Tuesday 3 March 2026, 20:45."""
    # late: submitted Monday 10:00, contact due 12:00, done 15:00; the plan confirmed in time
    late = submit(clock, at(2026, 3, 2, 10))
    step(clock, late, "approved", at(2026, 3, 2, 10, 5))
    step(clock, late, "assigned", at(2026, 3, 2, 10, 5), vendor=outpatient_vendor())
    step(clock, late, "contacted", at(2026, 3, 2, 15))
    step(clock, late, "plan_confirmed", at(2026, 3, 2, 16))
    # due today: submitted at 19:00, contact due 21:00 tonight
    today = submit(clock, at(2026, 3, 3, 19))
    # due tomorrow morning: submitted at 20:30, half an hour tonight and 1.5 h from 9:00
    tomorrow = submit(clock, at(2026, 3, 3, 20, 30))
    # provisional: submitted on New Year's Eve 2026; 2027's holidays are not confirmed
    provisional = submit(clock, at(2026, 12, 31, 20, 30))
    return {"late": late, "today": today, "tomorrow": tomorrow, "provisional": provisional}


@pytest.fixture
def scorecard(clock):
    """Three contacts by the outpatient vendor: two on time in the last week, one late
    (2.5 working hours) due a week and a few hours before NOW."""
    vendor = outpatient_vendor()
    contacted(clock, at(2026, 3, 2, 10), at(2026, 3, 2, 11), vendor)  # 1 working hour
    contacted(clock, at(2026, 3, 2, 20, 30), at(2026, 3, 3, 10), vendor)  # 0.5 + 1
    contacted(clock, at(2026, 2, 24, 10), at(2026, 2, 24, 12, 30), vendor)  # 2.5: late
    return vendor


COUNT_LINK = re.compile(r'<a href="([^"]+)"><span class="sla-count">(\d+)</span>([^<]+)</a>')


def count_links(page: str) -> dict[str, tuple[int, str]]:
    return {
        label: (int(count), html.unescape(url)) for url, count, label in COUNT_LINK.findall(page)
    }


def chart(page: str) -> str:
    match = re.search(r"<svg class=\"sla-chart\".*?</svg>", page, re.S)
    assert match, "no chart on the page"
    return match.group(0)


# --- what the page shows ------------------------------------------------------------------


def test_counts_match_the_queue_each_one_links_to(client, superuser, deadlines):
    client.force_login(superuser)

    page = client.get(dashboard_url()).text

    links = count_links(page)
    assert {label: count for label, (count, _url) in links.items()} == {
        "已超时": 1,
        "今天到期": 1,
        "24小时内到期": 2,  # tonight's and tomorrow morning's
        "截止时间暂定": 1,
    }
    expected = {
        "已超时": {"late"},
        "今天到期": {"today"},
        "24小时内到期": {"today", "tomorrow"},
        "截止时间暂定": {"provisional"},
    }
    for label, (_count, url) in links.items():
        queue = client.get(url).text
        listed = {name for name, request in deadlines.items() if request.ref in queue}
        assert listed == expected[label], label


def test_a_breached_request_that_ended_is_no_longer_counted_as_late(
    client, superuser, clock, deadlines
):
    step(clock, deadlines["late"], "cancelled", at(2026, 3, 3, 9))
    client.force_login(superuser)

    count, url = count_links(client.get(dashboard_url()).text)["已超时"]

    assert count == 0 == deadline_counts(NOW).breached
    # the queue's own "breached" filter lists ended requests too; the link narrows it
    assert deadlines["late"].ref not in client.get(url).text


def test_the_most_urgent_pending_milestones_come_first_with_the_time_left(
    client, superuser, deadlines
):
    client.force_login(superuser)

    page = client.get(dashboard_url()).text

    rows = re.findall(
        r"<tr>\s*<th scope=\"row\"><a href=\"([^\"]+)\">([^<]+)</a></th>(.*?)</tr>", page, re.S
    )
    first_url, first_ref, first_cells = rows[0]
    assert first_ref == deadlines["today"].ref
    assert first_url == reverse(
        "admin:bookings_servicerequest_change", args=[deadlines["today"].pk]
    )
    assert "服务专员联系客户" in first_cells and "2026-03-03 21:00" in first_cells
    assert "剩余15分" in first_cells
    assert "剩余13小时45分" in rows[1][2]  # tomorrow's contact, due 10:30
    last = next(cells for _url, ref, cells in rows if ref == deadlines["provisional"].ref)
    assert "2027-01-01 10:30（暂定）" in last


def test_unconfirmed_years_are_warned_with_a_link_to_the_calendar_years(client, superuser, clock):
    clock.set(at(2026, 12, 1, 10))  # 2027 is next year and not confirmed
    client.force_login(superuser)

    page = client.get(dashboard_url()).text

    assert "2027年的节假日尚未确认" in page
    assert reverse("admin:benefits_calendaryear_changelist") in page


def test_the_scorecard_counts_the_period_and_charts_it_with_labels(client, superuser, scorecard):
    client.force_login(superuser)

    month = client.get(dashboard_url()).text  # the last 30 days by default
    week = client.get(dashboard_url(), {"days": 7}).text

    assert "总体准时率 66.7%（2/3）" in month
    svg = chart(month)
    assert scorecard.name in svg  # the chart's title names the vendor
    assert "门诊协助 · 服务专员联系客户" in svg
    assert "准时率 66.7%（2/3）" in svg
    assert "平均 1.67工作小时，目标 ≤2工作小时，达标" in svg  # (1 + 1.5 + 2.5) / 3
    assert "准时率 100.0%（2/2）" in chart(week)  # the late one fell due 7 days 9 hours ago


def test_a_vendor_without_results_in_the_period_gets_no_scorecard(client, superuser, deadlines):
    client.force_login(superuser)

    page = client.get(dashboard_url(), {"days": 7}).text

    # only the late contact is decided; tonight's and the provisional ones are still open
    assert page.count('class="sla-chart"') == 1
    assert "准时率 0.0%（0/1）" in chart(page)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (NOW + timedelta(hours=1, minutes=20, seconds=59), "剩余1小时20分"),
        (NOW + timedelta(seconds=30), "剩余不到1分"),
        (NOW + timedelta(days=2, hours=3, minutes=5), "剩余2天3小时"),
        (NOW - timedelta(hours=3), "已超时3小时"),
        (NOW - timedelta(minutes=45), "已超时45分"),
    ],
)
def test_time_left_is_said_in_chinese(due, expected):
    assert time_left_text(due, NOW) == expected


# --- who may open it ----------------------------------------------------------------------


def test_someone_not_staff_is_sent_to_the_admin_login(client):
    client.force_login(UserFactory())

    response = client.get(dashboard_url())

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_the_queue_permission_is_refused(client):
    client.force_login(StaffFactory())

    assert client.get(dashboard_url()).status_code == 403


def test_staff_who_may_view_the_queue_find_the_dashboard_in_the_admin_index(client):
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_servicerequest"))
    client.force_login(staff)

    index = client.get(reverse("admin:index")).text

    assert f'<a href="{dashboard_url()}">服务时效看板</a>' in index
    assert client.get(dashboard_url()).status_code == 200


# --- what it costs ------------------------------------------------------------------------

# Session and user (2), the user's permissions (2), the user's insurers (1, memoised after the
# first page), then the page: counts (1), calendar days and confirmed years (2), urgent
# milestones (1), ratings (1), vendors with results (1), the cost-cap warning: the user's
# products, their priced cost, policies and net premiums (4).
PAGE_QUERIES = 15


def test_the_page_costs_a_fixed_number_of_queries_plus_a_few_per_vendor(
    client, clock, django_assert_max_num_queries, django_assert_num_queries
):
    # given an operator of the insurer, and one vendor with one result
    client.force_login(staff_member("operator", ["pingan"]))
    vendors = list(Vendor.objects.filter(active=True).order_by("pk")[:3])
    Benefit.objects.get(code=BENEFIT).backup_vendors.add(*vendors)  # all three may deliver it
    contacted(clock, at(2026, 3, 2, 10), at(2026, 3, 2, 11), vendors[0])
    with django_assert_max_num_queries(PAGE_QUERIES + QUERIES_PER_VENDOR):
        assert client.get(dashboard_url()).status_code == 200

    # when three vendors have results on many requests, and more milestones are pending
    for day in (2, 3):
        for hour, vendor in zip((10, 13, 16), vendors, strict=True):
            contacted(clock, at(2026, 3, day, hour), at(2026, 3, day, hour, 30), vendor)
    for hour in (9, 10, 11, 12, 13, 14, 15, 16, 17, 18):
        submit(clock, at(2026, 3, 3, hour))
    assert Milestone.objects.filter(state=Milestone.State.PENDING).count() > 20

    # then the page still costs the same plus the same few per vendor
    with django_assert_max_num_queries(PAGE_QUERIES + 3 * QUERIES_PER_VENDOR):
        page = client.get(dashboard_url()).text
    assert page.count('class="sla-chart"') == 3
    # counts, calendar (2), urgent, ratings, vendors; per vendor: counts, times, benefits,
    # calendar (2); the cost cap: products, costs, policies, premiums
    with django_assert_num_queries(10 + 3 * QUERIES_PER_VENDOR):
        data = sla_dashboard(now=NOW, days=30)
    assert len(data.urgent) == 20


def test_the_scorecard_shows_the_policyholders_ratings_average_and_count(client, clock):
    # given an operator, and a vendor with two completed requests rated 5 and 2 stars
    from bookings.lifecycle.rating import request_rate

    client.force_login(staff_member("operator", ["pingan"]))
    vendor = outpatient_vendor()
    for hour, stars in ((10, 5), (13, 2)):
        request = submit(clock, at(2026, 3, 2, hour))
        step(clock, request, "approved", at(2026, 3, 2, hour, 5))
        step(clock, request, "assigned", at(2026, 3, 2, hour, 5), vendor=vendor)
        step(clock, request, "contacted", at(2026, 3, 2, hour, 30))
        step(clock, request, "completed", at(2026, 3, 2, hour, 45))
        request.refresh_from_db()
        request_rate(request, stars=stars, comment="", actor=OPS)
    # then the vendor's scorecard says so (3.5 = (5 + 2) / 2)
    page = client.get(dashboard_url()).text
    assert f"{vendor.name}：总体准时率" in page
    assert "客户评价平均 3.5 星（2 条）" in page
