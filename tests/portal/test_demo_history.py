"""The demo's history (``manage.py load_demo_history``): requests in every status across the
products, written through the lifecycle so the ledger reconciles and the SLA dashboard shows
non-zero numbers that match the rows; a second run writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse

from benefits.models import Policy, Product, QuotaLedgerEntry
from benefits.quota.reconcile import ledger_reconcile
from bookings.models import OPEN_STATUSES, Milestone, RequestEvent, ServiceRequest
from bookings.sla.dashboard import SOON, deadline_counts, sla_dashboard
from portal.site.demo_history import POLICY_PREFIX, REF_PREFIX, load_demo_history
from tests.clock import Clock, at
from tests.factories import staff_member

pytestmark = pytest.mark.django_db
NOW = at(2026, 11, 18, 11, 0)  # a Wednesday morning
DAYS = 8  # the command's 90 days, shortened for the test


@pytest.fixture
def history(monkeypatch):
    Clock(monkeypatch, NOW)
    return load_demo_history(now=NOW, days=DAYS)


def history_requests():
    return ServiceRequest.objects.filter(ref__startswith=REF_PREFIX)


def test_the_history_has_requests_in_open_and_ended_statuses_across_products(history):
    requests = history_requests()
    assert requests.count() == history.requests == DAYS * 5
    statuses = set(requests.values_list("status", flat=True))
    assert {"completed", "cancelled", "rejected"} <= statuses
    assert len(statuses & OPEN_STATUSES) >= 3
    # every product of the catalogue (the five handbooks and the sixth, synthetic one)
    assert requests.values("benefit__product").distinct().count() == Product.objects.count()
    # the times are history, not the moment of loading
    first = requests.order_by("created_at").first()
    assert (NOW - first.created_at).days >= DAYS - 1
    assert RequestEvent.objects.filter(request__in=requests).count() == history.events


def test_every_request_has_the_events_and_ledger_its_status_implies(history):
    completed = history_requests().filter(status="completed")
    assert completed.exists()
    for request in completed[:10]:
        events = list(request.events.values_list("event", flat=True))
        assert events[0] == "submitted"
        # completed last, or followed only by the policyholder's rating
        assert events[events.index("completed") + 1 :] in ([], ["rated"])
        assert {"approved", "assigned", "in_service"} <= set(events)
        kinds = set(
            QuotaLedgerEntry.objects.filter(request_ref=request.ref).values_list("kind", flat=True)
        )
        assert kinds in (set(), {"hold", "use"})
    assert ledger_reconcile() == []


def test_the_dashboard_numbers_are_not_zero_and_match_the_rows(history):
    counts = deadline_counts(NOW)
    assert counts.breached > 0 and counts.due_soon > 0

    open_breached = (
        Milestone.objects.filter(state="breached", request__status__in=OPEN_STATUSES)
        .values("request")
        .distinct()
        .count()
    )
    due_soon = (
        Milestone.objects.filter(state="pending", due_at__lte=NOW + SOON)
        .values("request")
        .distinct()
        .count()
    )
    assert (counts.breached, counts.due_soon) == (open_breached, due_soon)

    board = sla_dashboard(now=NOW, days=30)
    assert board.scorecards
    decided = Milestone.objects.filter(
        Q(state="met") | Q(state="breached"),
        due_at__gte=board.since,
        due_at__lt=NOW,
        request__vendor__isnull=False,
    )
    assert sum(card.count for card in board.scorecards) == decided.count()
    on_time = sum(card.on_time for card in board.scorecards)
    assert 0 < on_time < decided.count()  # some promises kept, some broken


def test_a_second_run_writes_nothing(history):
    before = (
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        QuotaLedgerEntry.objects.count(),
        Policy.objects.filter(number__startswith=POLICY_PREFIX).count(),
    )
    again = load_demo_history(now=NOW, days=DAYS)
    assert again.skipped
    after = (
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        QuotaLedgerEntry.objects.count(),
        Policy.objects.filter(number__startswith=POLICY_PREFIX).count(),
    )
    assert after == before


def test_the_dashboard_page_shows_the_history_to_an_insurer_and_hides_others_requests(
    client, history, django_assert_max_num_queries
):
    # given an operator of 平安 only
    client.force_login(staff_member("operator", ["pingan"]))
    # then the dashboard counts their requests, in a bounded number of queries
    with django_assert_max_num_queries(40):
        response = client.get(reverse("admin:bookings_dashboard"))
    assert "服务时效看板" in response.text
    shown = {row["label"]: row["count"] for row in response.context["counts"]}
    mine = deadline_counts(
        NOW, Milestone.objects.filter(request__policy__product__insurer__code="pingan")
    )
    assert shown["已超时"] == mine.breached and shown["24小时内到期"] == mine.due_soon
    assert sum(shown.values()) > 0
    assert response.context["urgent"]
    # and another insurer's history request answers 404
    other = history_requests().exclude(policy__product__insurer__code="pingan").first()
    url = reverse("admin:bookings_servicerequest_change", args=[other.pk])
    assert client.get(url).status_code == 404


def test_the_command_reports_what_it_loaded_and_then_that_it_is_there(monkeypatch):
    Clock(monkeypatch, NOW)
    out = io.StringIO()
    call_command("load_demo_history", "--days", "3", stdout=out)
    assert "个申请" in out.getvalue() and "用时" in out.getvalue()
    out = io.StringIO()
    call_command("load_demo_history", "--days", "3", stdout=out)
    assert "已存在" in out.getvalue()


def test_completed_requests_are_rated_through_the_rating_service_where_there_is_one(monkeypatch):
    # given a rating service (the portal's, where installed), here one that records its calls
    from django.utils import timezone

    Clock(monkeypatch, NOW)
    calls = []

    def request_rate(request, *, stars, comment, actor):
        calls.append((request.ref, request.status, stars, timezone.now()))

    monkeypatch.setattr("portal.site.demo_history._rating_service", lambda: request_rate)

    # when the history is loaded
    result = load_demo_history(now=NOW, days=DAYS)

    # then about half the completed requests are rated, after completion, with 1 to 5 stars
    completed = dict(
        RequestEvent.objects.filter(
            event="completed", request__ref__startswith=REF_PREFIX
        ).values_list("request__ref", "at")
    )
    assert result.ratings == len(calls) > 0
    assert len(calls) < len(completed)
    for ref, status, stars, rated_at in calls:
        assert status == "completed" and 1 <= stars <= 5
        assert completed[ref] < rated_at < NOW


def test_without_a_rating_service_the_history_has_no_ratings(monkeypatch):
    Clock(monkeypatch, NOW)
    monkeypatch.setattr("portal.site.demo_history._rating_service", lambda: None)
    assert load_demo_history(now=NOW, days=3).ratings == 0
