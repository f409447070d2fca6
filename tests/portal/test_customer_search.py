"""Find the customer (issue 16): the staff search box on every admin page and the customer
page — what an insurer's agent sees, and what another insurer's agent does not."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from benefits.models import Policy
from benefits.policies.services import MemberInput, PolicyInput, policy_upsert
from bookings.documents.services import document_add
from bookings.lifecycle.services import request_transition
from bookings.models import ServiceRequest
from portal.kernel.actor import Actor
from portal.management.commands.load_demo import CHILD, DEMO_PHONE, HOLDER, SPOUSE
from portal.models import SmsMessage
from tests.factories import (
    MINIMAL_PDF,
    POLICYHOLDER,
    StaffFactory,
    outpatient_request,
    policyholder_login,
    staff_member,
)

pytestmark = pytest.mark.django_db

SEARCH = reverse("admin:customer_search")
PINGAN_POLICY, MANULIFE_POLICY = "DEMO-PA-0001", "DEMO-HYWJ-0001"
OPS = Actor(label="insurer:ops")


def demo_family() -> dict[str, Policy]:
    """What ``load_demo`` creates: 王小明 (13800138000) holds a 平安 family policy and a 中宏
    group policy, with his spouse and child insured on both, in force for four months."""
    effective = timezone.localdate().replace(day=1) - timezone.timedelta(days=120)
    members = [
        MemberInput(ref="M1", relation="self", person=HOLDER),
        MemberInput(ref="M2", relation="spouse", person=SPOUSE),
        MemberInput(ref="M3", relation="child", person=CHILD),
    ]
    for number, product, group in (
        (PINGAN_POLICY, "pingan.health", False),
        (MANULIFE_POLICY, "manulife.hywj", True),
    ):
        policy_upsert(
            PolicyInput(
                number=number,
                product=product,
                status="in_force",
                signed_on=effective - timezone.timedelta(days=1),
                effective_on=effective,
                expires_on=effective.replace(year=effective.year + 1),
                holder=HOLDER,
                members=members,
                family=True,
                group=group,
                waiting_days=30,
            )
        )
    return {p.number: p for p in Policy.objects.filter(number__in=[PINGAN_POLICY, MANULIFE_POLICY])}


def requests_for(policy: Policy, refs: list[str]) -> list[ServiceRequest]:
    """A 门诊协助 request for each member ``refs`` (the family shares one use a year: each
    earlier request is cancelled before the next, its quota returned)."""
    made: list[ServiceRequest] = []
    for ref in refs:
        if made:
            request_transition(made[-1], "cancelled", actor=OPS, reason="不需要了")
        made.append(outpatient_request(policy=policy, member_ref=ref, at=timezone.now()))
    return made


def search(client, term: str):
    return client.post(SEARCH, {"q": term})


def customer_url(policy: Policy) -> str:
    return reverse("admin:customer", args=[policy.holder_id])


def test_acceptance_the_demo_phone_finds_the_customer_with_both_policies_and_requests(client):
    # given the demo family, a request on each of the 平安 policy's members
    policies = demo_family()
    pingan = policies[PINGAN_POLICY]
    requests = requests_for(pingan, ["M1", "M2"])
    client.force_login(staff_member("operator", ["pingan", "manulife"]))
    # when the agent types the phone as the caller says it
    found = search(client, "138 0013 8000")
    # then the one hit lands on the customer page (no phone in its address)
    assert found.status_code == 302
    assert found["Location"] == customer_url(pingan)
    page = client.get(found["Location"]).text
    assert "王小明" in page and "138****8000" in page and DEMO_PHONE not in page
    assert HOLDER.id_number not in page and "110105********" in page
    assert PINGAN_POLICY in page and MANULIFE_POLICY in page
    assert "李小红" in page and "王小宝" in page
    for request in requests:
        link = reverse("admin:bookings_servicerequest_change", args=[request.pk])
        assert f'<a href="{link}">{request.ref}</a>' in page
    statuses = re.findall(r"<td>(已提交|已取消)</td>", page)
    assert sorted(statuses) == ["已取消", "已提交"]  # each request's status, in Chinese


def test_a_staff_user_sees_only_their_insurers_policies_and_requests_of_the_customer(client):
    policies = demo_family()
    request = outpatient_request(policy=policies[PINGAN_POLICY], at=timezone.now())
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(search(client, DEMO_PHONE)["Location"]).text
    assert PINGAN_POLICY in page and MANULIFE_POLICY not in page and request.ref in page
    client.force_login(staff_member("operator", ["manulife"]))
    page = client.get(search(client, DEMO_PHONE)["Location"]).text
    assert MANULIFE_POLICY in page and PINGAN_POLICY not in page and request.ref not in page
    assert "门诊协助" not in page  # nor what is left of the other insurer's benefits


def test_another_insurers_customer_is_not_found_and_their_page_is_404(client):
    policies = demo_family()
    request = outpatient_request(policy=policies[PINGAN_POLICY], at=timezone.now())
    client.force_login(staff_member("operator", ["axa"]))
    for term in (DEMO_PHONE, HOLDER.id_number, "王小明", PINGAN_POLICY, request.ref):
        answer = search(client, term)
        assert answer.status_code == 200, term
        assert "没有找到匹配的客户" in answer.text and "/admin/customer/" not in answer.text
    assert client.get(customer_url(policies[PINGAN_POLICY])).status_code == 404


def test_each_kind_of_term_finds_the_customer(client):
    policies = demo_family()
    request = outpatient_request(policy=policies[PINGAN_POLICY], member_ref="M2", at=timezone.now())
    client.force_login(staff_member("operator", ["pingan"]))
    holder_page = customer_url(policies[PINGAN_POLICY])
    for term in ("+86 138-0013-8000", HOLDER.id_number.lower(), "王小明"):
        assert search(client, term)["Location"] == holder_page, term
    # the request's reference finds the member it is for
    spouse = policies[PINGAN_POLICY].members.get(ref="M2").person
    assert search(client, request.ref)["Location"] == reverse("admin:customer", args=[spouse.pk])
    # a policy number finds everyone on it: a list with masked phones
    listed = search(client, PINGAN_POLICY)
    assert listed.status_code == 200
    assert all(name in listed.text for name in ("王小明", "李小红", "王小宝"))
    assert "138****8000" in listed.text and DEMO_PHONE not in listed.text
    assert reverse("admin:customer", args=[spouse.pk]) in listed.text


def test_several_hits_are_listed_with_name_and_masked_phone_over_get_too(client):
    demo_family()
    client.force_login(staff_member("auditor", ["pingan"]))
    page = client.get(SEARCH, {"q": "王小"})
    assert page.status_code == 200
    rows = re.findall(r'<a href="/admin/customer/\d+/">([^<]+)</a>', page.text)
    assert sorted(rows) == ["王小宝", "王小明"]
    assert "138****8000" in page.text
    assert page["Referrer-Policy"] == "no-referrer"  # the term goes no further than this page


def test_an_id_number_search_leaves_no_trace_in_logs_or_the_redirect(client, caplog):
    demo_family()
    client.force_login(staff_member("operator", ["pingan"]))
    with caplog.at_level(logging.DEBUG):
        answer = search(client, HOLDER.id_number)
    assert answer.status_code == 302
    assert HOLDER.id_number not in answer["Location"] and DEMO_PHONE not in answer["Location"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert HOLDER.id_number not in logged and HOLDER.id_number[:14] not in logged


def test_every_admin_page_has_the_search_box_and_it_posts(client):
    client.force_login(staff_member("operator", ["pingan"]))
    for url in (reverse("admin:index"), reverse("admin:bookings_servicerequest_changelist")):
        page = client.get(url).text
        form = re.search(r'<form id="customer-search" method="(\w+)" action="([^"]+)"', page)
        assert form is not None, url
        assert form.groups() == ("post", SEARCH)


def test_staff_without_the_person_permission_may_not_search(client):
    user = StaffFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="bookings", codename="view_servicerequest")
    )
    client.force_login(user)
    assert '<form id="customer-search"' not in client.get(reverse("admin:index")).text
    assert search(client, DEMO_PHONE).status_code == 403
    assert client.get(reverse("admin:customer", args=[1])).status_code == 403


def benefit_numbers(html: str) -> list[str]:
    """What is left, in the plain words both pages print ("剩余1次（共1次）", "本年度已用完")."""
    return sorted(re.findall(r"剩余[0-9.]+[^（<]*（共[^）]+）|[^>：]*已用完", html))


def test_what_is_left_is_the_same_as_the_customer_sees_in_the_portal(client):
    # given the customer has used one benefit
    policies = demo_family()
    outpatient_request(policy=policies[PINGAN_POLICY], at=timezone.now())
    holder = policies[PINGAN_POLICY].holder
    policyholder_login(client, holder)
    # the portal shows one member at a time: every member's screen
    portal = sorted(
        number
        for policy in policies.values()
        for member in policy.members.all()
        for number in benefit_numbers(
            client.get(reverse("portal:home"), {"member": member.pk}).text
        )
    )
    client.logout()
    client.force_login(staff_member("operator", ["pingan", "manulife"]))
    staff = benefit_numbers(client.get(customer_url(policies[PINGAN_POLICY])).text)
    assert len(portal) >= 5 and staff == portal


def test_documents_open_through_the_logged_view_and_texts_are_masked(client, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    policies = demo_family()
    request = outpatient_request(policy=policies[PINGAN_POLICY], at=timezone.now())
    document = document_add(request, name="门诊病历.pdf", data=MINIMAL_PDF, actor=POLICYHOLDER)
    SmsMessage.objects.create(phone=DEMO_PHONE, template="login_code", body="验证码为654321")
    open_link = reverse("admin:bookings_document_file", args=[document.pk])
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(customer_url(policies[PINGAN_POLICY])).text
    assert f'<a href="{open_link}">门诊病历.pdf</a>' in page
    assert "login_code" in page and "654321" not in page and DEMO_PHONE not in page
    # an auditor opens no record: the file is listed without a link
    client.force_login(staff_member("auditor", ["pingan"]))
    page = client.get(customer_url(policies[PINGAN_POLICY])).text
    assert "门诊病历.pdf" in page and open_link not in page


def page_queries(client, url: str) -> int:
    client.get(url)  # the staff user's memos (insurers, permissions) are filled once
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_customer_page_costs_the_same_queries_for_one_and_many_requests(client):
    policies = demo_family()
    pingan = policies[PINGAN_POLICY]
    client.force_login(staff_member("operator", ["pingan", "manulife"]))
    first = requests_for(pingan, ["M1"])[0]
    one = page_queries(client, customer_url(pingan))
    request_transition(first, "cancelled", actor=OPS, reason="不需要了")
    requests_for(pingan, ["M2", "M3", "M1"])
    SmsMessage.objects.create(phone=DEMO_PHONE, template="request_update", body="x")
    assert page_queries(client, customer_url(pingan)) == one
    assert one <= 20


def test_the_customer_page_lists_consents_given_and_withdrawn(client):
    # given the demo holder consented in the portal and later withdrew, then consented again
    from datetime import timedelta

    from benefits.policies.consents import ConsentRecord

    policies = demo_family()
    pingan = policies[PINGAN_POLICY]
    now = timezone.now()
    common = {"person": pingan.holder, "kind": "health_information", "purpose": "p"}
    ConsentRecord.objects.create(
        **common,
        version="v1",
        channel="portal",
        granted_at=now - timedelta(days=9),
        withdrawn_at=now - timedelta(days=3),
    )
    ConsentRecord.objects.create(**common, version="v2", channel="hotline", granted_at=now)
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(customer_url(pingan)).text
    # then the agent sees both, newest first, with channel and state in Chinese
    table = page[page.index('id="customer-consents"') :]
    assert table.index("v2") < table.index("v1")
    assert "客服热线" in table and "有效" in table
    assert "客户门户" in table and "撤回" in table
