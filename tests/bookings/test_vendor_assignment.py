"""A request is assigned only to a vendor that delivers its benefit under its product (the
benefit's vendor or one of the backup vendors the insurer named), in the lifecycle service
and so in every channel; the admin's assign form offers only those vendors."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.urls import reverse

from benefits.catalogue.loading import catalogue_load
from benefits.catalogue.vendors import assignable_vendors, vendors_assignable_to_all
from benefits.models import Benefit, Vendor
from bookings.lifecycle.services import request_transition
from bookings.models import ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from tests.clock import TZ
from tests.factories import OUTPATIENT_ASSIST, outpatient_request

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:bookings_servicerequest_changelist"
OPS = Actor(label="insurer:ops")


def approved(number: str) -> ServiceRequest:
    """An approved 平安 门诊协助 request (its vendor in the catalogue: 平安 own team)."""
    request = outpatient_request(number=number, at=datetime(2026, 3, 2, 10, tzinfo=TZ))
    request_transition(request, "approved", actor=OPS)
    request.refresh_from_db()
    return request


@pytest.fixture
def benefit() -> Benefit:
    return Benefit.objects.select_related("vendor").get(code=OUTPATIENT_ASSIST)


@pytest.fixture
def outsider(benefit) -> Vendor:
    """An active vendor that delivers other benefits, not this one."""
    return Vendor.objects.filter(active=True).exclude(pk=benefit.vendor_id).order_by("code")[0]


def act(client, requests: list[ServiceRequest], **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": "assign_vendor", "_selected_action": [r.pk for r in requests], **extra},
        follow=True,
    )


def offered(page: str) -> set[int]:
    select = re.search(r'<select name="vendor"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return {int(pk) for pk in re.findall(r'<option value="(\d+)"', select.group(1))}


def test_the_benefits_own_vendor_is_assigned(benefit):
    request = approved("VA-1")

    request_transition(request, "assigned", actor=OPS, vendor=benefit.vendor)

    request.refresh_from_db()
    assert (request.status, request.vendor) == (Status.ASSIGNED, benefit.vendor)


def test_a_vendor_of_other_benefits_is_refused_naming_the_vendor_and_the_benefit(benefit, outsider):
    request = approved("VA-2")

    with pytest.raises(DomainError) as refused:
        request_transition(request, "assigned", actor=OPS, vendor=outsider)

    assert refused.value.code == "vendor_not_serving"
    assert refused.value.message == f"服务商“{outsider.name}”不提供本产品的“门诊协助”服务，不能派单"
    request.refresh_from_db()
    assert (request.status, request.vendor) == (Status.APPROVED, None)
    assert not request.events.filter(event="assigned").exists()


def test_a_backup_vendor_is_assigned_and_an_inactive_one_is_refused(benefit, outsider):
    benefit.backup_vendors.add(outsider)
    request = approved("VA-3")

    request_transition(request, "assigned", actor=OPS, vendor=outsider)
    request.refresh_from_db()
    assert request.vendor == outsider

    Vendor.objects.filter(pk=outsider.pk).update(active=False)
    outsider.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        request_transition(approved("VA-4"), "assigned", actor=OPS, vendor=outsider)
    assert refused.value.code == "vendor_not_serving"
    assert refused.value.message == f"服务商“{outsider.name}”已停止合作，不能派单"


def test_the_admin_action_refuses_a_posted_vendor_that_does_not_serve(client, superuser, outsider):
    request = approved("VA-5")
    client.force_login(superuser)

    page = act(client, [request], apply="1", vendor=outsider.pk)

    assert "该服务商不提供所选申请的权益服务，不能派单，请从列表中选择" in page.text
    request.refresh_from_db()
    assert (request.status, request.vendor) == (Status.APPROVED, None)


def test_a_vendor_removed_between_showing_and_applying_the_form_is_refused(
    client, superuser, benefit, outsider
):
    # given the backup vendor is offered when the form is shown
    benefit.backup_vendors.add(outsider)
    requests = [approved("VA-6"), approved("VA-10")]
    client.force_login(superuser)
    assert outsider.pk in offered(act(client, requests).text)

    # when it stops serving the benefit before the bulk action is applied
    benefit.backup_vendors.remove(outsider)
    page = act(client, requests, apply="1", vendor=outsider.pk)

    # then no request is assigned to it, and the form says why
    assert "不能派单" in page.text
    assert set(ServiceRequest.objects.values_list("status", "vendor")) == {(Status.APPROVED, None)}


def test_the_assign_form_offers_only_vendors_that_deliver_every_selected_benefit(
    client, superuser, benefit, outsider
):
    requests = [approved("VA-7"), approved("VA-8")]
    client.force_login(superuser)

    assert offered(act(client, requests).text) == {benefit.vendor_id}

    benefit.backup_vendors.add(outsider)
    assert offered(act(client, requests).text) == {benefit.vendor_id, outsider.pk}
    act(client, requests, apply="1", vendor=outsider.pk)
    assert set(ServiceRequest.objects.values_list("vendor", "status")) == {
        (outsider.pk, Status.ASSIGNED)
    }


def test_requests_without_a_common_vendor_get_a_clear_message(client, superuser, benefit):
    request = approved("VA-9")
    Vendor.objects.filter(pk=benefit.vendor_id).update(active=False)
    client.force_login(superuser)

    page = act(client, [request])

    assert "没有共同的可派单服务商" in page.text
    assert 'name="vendor"' not in page.text


def test_bulk_choices_are_the_intersection_of_each_benefits_vendors(benefit, outsider):
    other = Benefit.objects.exclude(vendor=benefit.vendor).exclude(vendor=outsider).first()
    assert set(vendors_assignable_to_all([benefit.pk, other.pk])) == set()

    benefit.backup_vendors.add(other.vendor)
    assert list(vendors_assignable_to_all([benefit.pk, other.pk])) == [other.vendor]
    assert set(assignable_vendors(benefit)) == {benefit.vendor, other.vendor}
    assert list(vendors_assignable_to_all([])) == []


def test_reloading_the_catalogue_keeps_the_backup_vendors_an_admin_set(benefit, outsider):
    benefit.backup_vendors.add(outsider)

    report = catalogue_load()

    assert list(benefit.backup_vendors.all()) == [outsider]
    assert not [c for c in report.changes if c.code == benefit.code]
