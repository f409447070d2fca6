"""我的权益 one screen at a time, the benefit page, the request page (what was submitted,
progress, contacts, promises, timeline), uploads (several at once, delete before review,
image previews) and ratings, through the test client with their query budgets."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from benefits.demo import family_policy, policy_with_members
from benefits.models import Benefit, Policy, PolicyMember, Product
from bookings.lifecycle.services import request_transition
from bookings.models import Document, DocumentAccess, Milestone, Rating, RequestEvent
from bookings.sla.dashboard import vendor_scorecards
from tests.factories import (
    MINIMAL_PDF,
    OUTPATIENT_ASSIST,
    POLICYHOLDER,
    outpatient_request,
    policyholder_login,
    staff_member,
)

pytestmark = pytest.mark.django_db
HOME_QUERIES = 8


def family(number: str, phone: str) -> Policy:
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self"), ("李二", date(1986, 2, 2), "spouse")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: phone},
    )


@pytest.fixture
def owner(client):
    policy = family("SCREEN-1", "13800000401")
    policyholder_login(client, policy.holder)
    return policy


def png(name: str = "处方.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def detail(client, ref: str) -> str:
    return client.get(reverse("portal:request_detail", args=[ref])).text


def timeline(page: str) -> str:
    return page.split('<ol class="timeline">')[1].split("</ol>")[0]


# --- 我的权益 -----------------------------------------------------------------------------


def _second_policy(holder, number: str) -> Policy:
    holder.phone = f"139{holder.pk:08d}"
    holder.save(update_fields=["phone"])
    policy = Policy.objects.create(
        number=number,
        product=Product.objects.get(code="xiaokang.rsyj"),
        signed_on=date(2026, 1, 1),
        effective_on=timezone.localdate() - timedelta(days=40),
        expires_on=timezone.localdate() + timedelta(days=300),
        holder=holder,
        family=True,
    )
    PolicyMember.objects.create(policy=policy, person=holder, ref="M1", relation="self")
    return policy


def test_one_screen_per_member_with_a_selector_and_the_same_queries_for_1_and_8_members(
    client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alone = family_policy(number="SCREEN-ALONE", size=1, birth_year=1970, name="单")
    _second_policy(alone.holder, "SCREEN-ALONE-2")
    policyholder_login(client, alone.holder)
    client.get(reverse("portal:home"))  # warm: process memos (catalogue, calendar)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("portal:home")).status_code == 200

    big = family_policy(number="SCREEN-BIG", size=7, birth_year=1964, name="家")
    second = _second_policy(big.holder, "SCREEN-BIG-2")
    client = Client()
    policyholder_login(client, big.holder)
    # session, user, account, members, benefits, balances, requests, unread: 8
    assert len(one.captured_queries) <= HOME_QUERIES
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(reverse("portal:home")).text
    members = list(PolicyMember.objects.filter(policy__in=[big, second]).select_related("person"))
    assert len(members) == 8
    # every member and policy is one tap away; the screen is the first member's
    for member in members:
        assert f'href="?member={member.pk}"' in page
    assert page.count('aria-current="true"') == 1
    # another member's screen: their policy's services, under the insurer's name and the
    # product's as on the policy (not the handbook's title)
    xiaokang = client.get(reverse("portal:home"), {"member": second.members.get().pk}).text
    assert 'class="grid"' in xiaokang and "保单号 SCREEN-BIG-2" in xiaokang
    assert f"小康人寿保险有限责任公司 · {second.product.name}" in xiaokang
    assert second.product.handbook_title not in xiaokang


def test_another_persons_member_is_never_shown_and_their_benefit_page_is_404(client, owner):
    other = family("SCREEN-OTHER", "13800000402")
    stranger = other.members.get(ref="M2")
    page = client.get(reverse("portal:home"), {"member": stranger.pk}).text
    assert "SCREEN-OTHER" not in page and "保单号 SCREEN-1" in page
    url = reverse("portal:benefit_detail", args=[stranger.pk, OUTPATIENT_ASSIST])
    assert client.get(url).status_code == 404
    mine = owner.members.get(ref="M1")
    assert (
        client.get(reverse("portal:benefit_detail", args=[mine.pk, "no.such.code"])).status_code
        == 404
    )


def test_a_blocked_tile_is_greyed_with_the_first_reason_and_links_to_all_reasons(client):
    new = policy_with_members(
        number="SCREEN-NEW",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=3),
        phones={0: "13800000403"},
    )
    policyholder_login(client, new.holder)
    page = client.get(reverse("portal:home")).text
    member = new.members.get()
    tile = page[page.index("tile tile--blocked") :].split("</li>")[0]
    assert "剩余1次（共1次）" in tile and "等待期至" in tile
    link = reverse("portal:benefit_detail", args=[member.pk, OUTPATIENT_ASSIST]) + "#reasons"
    assert f'href="{link}"' in tile
    benefit = client.get(link.split("#")[0]).text
    assert 'id="reasons"' in benefit and "申请服务" not in benefit.split('id="reasons"')[1]


def test_a_usable_benefit_page_offers_the_request_with_the_quota_in_words(client, owner):
    member = owner.members.get(ref="M1")
    page = client.get(reverse("portal:benefit_detail", args=[member.pk, OUTPATIENT_ASSIST])).text
    assert "剩余1次（共1次）" in page and "全家共享" in page
    home = client.get(reverse("portal:home")).text
    tile = home.split(
        f'href="{reverse("portal:benefit_detail", args=[member.pk, OUTPATIENT_ASSIST])}"'
    )
    assert '剩余1次（共1次） <span class="tile__tag">全家共享</span>' in tile[1].split("</li>")[0]
    assert reverse("portal:request_new", args=[member.pk, OUTPATIENT_ASSIST]) in page


# --- the request page ------------------------------------------------------------------------


def test_the_request_page_shows_what_was_submitted_progress_and_the_insurers_hotline(client, owner):
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    request.note = "请安排上午"
    request.save(update_fields=["note"])
    page = detail(client, request.ref)
    assert "上海市" in page and "请安排上午" in page  # what was submitted
    assert "平安健康保险股份有限公司客服热线" in page and 'href="tel:95511-7"' in page
    assert page.count("steps__item--done") == 1  # submitted
    assert 'steps__item steps__item--current" aria-current="step"' in page  # awaiting review


def test_the_vendor_and_its_hotline_show_while_the_service_is_open_only(client, owner):
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    vendor = Benefit.objects.get(code=OUTPATIENT_ASSIST).vendor
    vendor.hotline = "400-000-1234"
    vendor.save(update_fields=["hotline"])
    request_transition(request, "approved")
    request_transition(request, "assigned", vendor=vendor)
    page = detail(client, request.ref)
    assert vendor.name in page and 'href="tel:400-000-1234"' in page
    # a vendor's retried report is one row on the timeline
    request_transition(request, "contacted")
    request_transition(request, "contacted")
    page = detail(client, request.ref)
    assert timeline(page).count("服务商已联系客户") == 1
    assert RequestEvent.objects.filter(request=request, event="contacted").count() == 2
    request_transition(request, "completed")
    done = detail(client, request.ref)
    assert "400-000-1234" not in done and done.count("steps__item--done") == 8


def test_met_and_cancelled_promises_are_marked_not_listed_as_due(client, owner):
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    due = timezone.now() + timedelta(hours=3)
    Milestone.objects.filter(request=request).delete()
    for code, state in (("a", "met"), ("b", "cancelled"), ("c", "pending")):
        Milestone.objects.create(
            request=request,
            code=code,
            label=f"承诺{code}",
            starts_on="submitted",
            met_by="contacted",
            state=state,
            due_at=due,
            met_at=timezone.now() if state == "met" else None,
        )
    page = detail(client, request.ref)
    rows = {code: page.split(f"承诺{code}")[1].split("</li>")[0] for code in "abc"}
    assert "已达成" in rows["a"] and "截止" not in rows["a"]
    assert "已取消" in rows["b"] and "截止" not in rows["b"]
    assert "截止" in rows["c"]


def test_the_request_page_costs_the_same_queries_with_a_long_history(
    client, owner, settings, tmp_path
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    with CaptureQueriesContext(connection) as first:
        detail(client, request.ref)
    url = reverse("portal:request_upload", args=[request.ref])
    client.post(url, {"file": [pdf(f"病历{n}.pdf") for n in range(5)]})
    for _ in range(5):
        request_transition(request, "records_requested")
        request_transition(request, "records_complete")
    with CaptureQueriesContext(connection) as later:
        detail(client, request.ref)
    assert len(later.captured_queries) == len(first.captured_queries)


# --- uploads -----------------------------------------------------------------------------------


def test_several_files_at_once_each_a_timeline_row_and_deleted_before_review(
    client, owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    url = reverse("portal:request_upload", args=[request.ref])
    page = client.post(url, {"file": [pdf("门诊病历.pdf"), png()]}, follow=True).text
    assert "已上传2个文件" in page
    assert request.documents.count() == 2
    assert timeline(page).count("上传资料：") == 2  # one timeline row each, by file name
    # the image has a preview, served by the logged view, not a public URL
    image = Document.objects.get(display_name="处方.png")
    preview = reverse("portal:document_file", args=[request.ref, image.pk]) + "?preview=1"
    assert f'src="{preview}"' in page and "/media/" not in page
    assert client.get(preview).status_code == 200
    assert DocumentAccess.objects.get(document=image).purpose == "portal_preview"
    # taking one back before review
    delete = reverse("portal:document_delete", args=[request.ref, image.pk])
    with django_capture_on_commit_callbacks(execute=True):
        after = client.post(delete, follow=True).text
    assert "已删除“处方.png”" in after and "删除资料：处方.png" in after
    assert list(request.documents.values_list("display_name", flat=True)) == ["门诊病历.pdf"]
    assert not list(tmp_path.rglob("*.png"))  # the stored file is gone too


def test_a_reviewed_or_vendors_record_cannot_be_deleted(client, owner, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    client.post(reverse("portal:request_upload", args=[request.ref]), {"file": pdf("a.pdf")})
    document = request.documents.get()
    assert "删除a.pdf" in detail(client, request.ref)
    request_transition(request, "approved")
    assert "删除a.pdf" not in detail(client, request.ref)  # no button once reviewed
    delete = reverse("portal:document_delete", args=[request.ref, document.pk])
    refused = client.post(delete, follow=True).text
    assert "不能删除" in refused and request.documents.count() == 1
    # someone else's request: 404, their record stays
    other = family("SCREEN-OTH2", "13800000404")
    theirs = outpatient_request(policy=other, member_ref="M2", at=timezone.now())
    from bookings.documents.services import document_add

    their_doc = document_add(theirs, name="x.pdf", data=MINIMAL_PDF, actor=POLICYHOLDER)
    url = reverse("portal:document_delete", args=[theirs.ref, their_doc.pk])
    assert client.post(url).status_code == 404
    assert Document.objects.filter(pk=their_doc.pk).exists()


def test_more_than_ten_files_at_once_are_refused_in_chinese(client, owner, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    url = reverse("portal:request_upload", args=[request.ref])
    page = client.post(url, {"file": [pdf(f"{n}.pdf") for n in range(11)]}, follow=True).text
    assert "一次最多上传10个文件" in page and request.documents.count() == 0


# --- ratings -----------------------------------------------------------------------------------


def test_a_completed_request_is_rated_once_and_feeds_the_vendor_scorecard(client, owner):
    request = outpatient_request(policy=owner, member_ref="M2", at=timezone.now())
    url = reverse("portal:request_rating", args=[request.ref])
    assert "评价本次服务" not in detail(client, request.ref)
    early = client.post(url, {"stars": "5"}, follow=True).text
    assert "服务完成后才能评价" in early and not Rating.objects.exists()

    vendor = Benefit.objects.get(code=OUTPATIENT_ASSIST).vendor
    request_transition(request, "approved")
    request_transition(request, "assigned", vendor=vendor)
    request_transition(request, "contacted")
    request_transition(request, "completed")
    assert "评价本次服务" in detail(client, request.ref)
    bad = client.post(url, {"stars": "9"}, follow=True).text
    assert "选择一个有效的选项" in bad or "有效" in bad
    done = client.post(url, {"stars": "4", "comment": "陪诊很耐心"}, follow=True).text
    assert "感谢您的评价" in done and "陪诊很耐心" in done and "评价服务：4星" in done
    again = client.post(url, {"stars": "1"}, follow=True).text
    assert "您已评价过这次服务" in again
    assert Rating.objects.get().stars == 4

    now = timezone.now()
    cards = {
        c.vendor_id: c for c in vendor_scorecards(now - timedelta(days=30), now + timedelta(1))
    }
    assert cards[vendor.pk].rating_count == 1 and str(cards[vendor.pk].rating_avg) == "4.0"
    # the insurer's operator reads it on the request in admin
    staff = Client()
    staff.force_login(staff_member("operator", ["pingan"]))
    change = staff.get(reverse("admin:bookings_servicerequest_change", args=[request.pk]))
    assert change.status_code == 200 and "陪诊很耐心" in change.text


# --- the CSRF failure page ---------------------------------------------------------------------


def test_a_form_posted_without_its_token_gets_a_chinese_page_in_the_portal_layout(client, owner):
    client.handler.enforce_csrf_checks = True  # as a browser: the form's token is checked
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 403
    page = response.text
    assert "页面已过期，请重新提交" in page and 'class="topbar"' in page
    assert "CSRF" not in page and "Forbidden" not in page
    api = Client(enforce_csrf_checks=True)
    answer = api.post("/api/staff/v1/nothing-here", content_type="application/json")
    assert answer.status_code in (401, 403, 404)  # JSON either way, never the HTML page
    assert answer["Content-Type"].startswith("application/json")
