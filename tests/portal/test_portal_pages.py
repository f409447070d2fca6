"""The policyholder's pages through the test client: benefits with what is left and why not,
requesting, uploading, following and cancelling; who may open what; query budgets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Policy
from bookings.documents.services import document_add
from bookings.models import DocumentAccess, ServiceRequest, Status
from portal.kernel.actor import Actor
from tests.factories import MINIMAL_PDF, outpatient_request, policyholder_login

pytestmark = pytest.mark.django_db


def family(number: str, phone: str, effective_on: date | None = None) -> Policy:
    """A 平安 family policy in force since well over the 30-day waiting period."""
    effective_on = effective_on or timezone.localdate() - timedelta(days=60)
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self"), ("李二", date(1986, 2, 2), "spouse")],
        effective_on=effective_on,
        phones={0: phone},
    )


def log_in(client, django_user_model, policy: Policy) -> None:
    policyholder_login(client, policy.holder)


def submit(policy: Policy) -> ServiceRequest:
    """The spouse (M2) asks for 门诊协助 now."""
    return outpatient_request(policy=policy, member_ref="M2", at=timezone.now())


@pytest.fixture
def owner(client, django_user_model):
    policy = family("PORTAL-1", "13800000001")
    log_in(client, django_user_model, policy)
    return policy


def test_benefits_page_shows_what_is_left_and_why_a_benefit_cannot_be_used(
    client, django_user_model
):
    policy = family(
        "PORTAL-NEW", "13800000009", effective_on=timezone.localdate() - timedelta(days=3)
    )
    log_in(client, django_user_model, policy)
    page = client.get(reverse("portal:home"))
    assert page.status_code == 200
    text = page.text
    assert "门诊协助" in text and "王一" in text and "李二" in text
    last_day = policy.effective_on + timedelta(days=29)
    assert f"等待期至{last_day.year}年{last_day.month}月{last_day.day}日结束" in text
    # the benefit's own page says what is left in plain words, and every reason
    member = policy.members.get(ref="M1")
    detail = client.get(
        reverse("portal:benefit_detail", args=[member.pk, "pingan.health.outpatient_assist"])
    )
    assert "剩余1次（共1次）" in detail.text and "暂不可用的原因" in detail.text


def test_a_family_member_requests_the_pooled_outpatient_assist_from_the_portal(client, owner):
    member = owner.members.get(ref="M2")
    url = reverse("portal:request_new", args=[member.pk, "pingan.health.outpatient_assist"])
    form = client.get(url)
    assert form.status_code == 200 and "服务所在城市" in form.text
    key = form.context["form"].initial["submission_key"]
    check = client.post(url, {"submission_key": key, "region": "上海市", "check": "1"})
    assert "符合申请条件" in check.text
    assert not ServiceRequest.objects.exists()  # checking does not submit

    done = client.post(url, {"submission_key": key, "region": "上海市", "submit": "1"}, follow=True)
    request = ServiceRequest.objects.get()
    assert done.redirect_chain[-1][0] == reverse("portal:request_detail", args=[request.ref])
    assert "服务专员联系客户" in done.text  # what happens next, as the handbook promises
    # The same form posted again (a double tap) is the same request.
    again = client.post(url, {"submission_key": key, "region": "上海市", "submit": "1"})
    assert again.status_code == 302 and ServiceRequest.objects.count() == 1
    # The pool is the family's: the holder now sees it used up.
    home = client.get(reverse("portal:home"))
    assert "本年度已用完" in home.text  # plain words, not "剩余0"
    assert f"家庭共享：李二 已于{timezone.localdate():%-m月%-d日}申请，处理中" in home.text


def test_a_bad_city_re_renders_the_form_with_the_reason_in_chinese(client, owner):
    member = owner.members.get(ref="M1")
    url = reverse("portal:request_new", args=[member.pk, "pingan.health.outpatient_assist"])
    page = client.post(url, {"submission_key": "k1", "region": "林芝市", "submit": "1"})
    assert page.status_code == 200
    assert "服务地点不在本服务的网络范围内" in page.text
    assert 'value="林芝市"' in page.text  # what they typed is kept
    missing = client.post(url, {"submission_key": "k2", "submit": "1"})
    # the form asks for what the engine needs, in the engine's words
    assert "请提供服务所在城市或医院" in missing.text
    assert not ServiceRequest.objects.exists()


def test_upload_follow_and_cancel_with_the_consequence_stated_first(
    client, owner, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = submit(owner)
    detail_url = reverse("portal:request_detail", args=[request.ref])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("门诊病历.pdf", MINIMAL_PDF, content_type="application/pdf")
    client.post(reverse("portal:request_upload", args=[request.ref]), {"file": upload})
    detail = client.get(detail_url)
    assert "门诊病历.pdf" in detail.text and "提交申请" in detail.text

    document = request.documents.get()
    file_url = reverse("portal:document_file", args=[request.ref, document.pk])
    response = client.get(file_url)
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert DocumentAccess.objects.filter(document=document, purpose="portal_view").count() == 1

    fake = SimpleUploadedFile("报告.pdf", b"PK\x03\x04 not a pdf", content_type="application/pdf")
    refused = client.post(
        reverse("portal:request_upload", args=[request.ref]), {"file": fake}, follow=True
    )
    assert "文件内容不是PDF、JPEG、PNG或HEIC图片" in refused.text

    confirm = client.get(reverse("portal:request_cancel", args=[request.ref]))
    assert "现在取消不扣减权益次数" in confirm.text
    client.post(reverse("portal:request_cancel", args=[request.ref]), {"reason": "已自行就诊"})
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    # the timeline names the cause: the policyholder's own cancellation
    assert "取消申请（客户本人取消）：已自行就诊" in client.get(detail_url).text


def test_notifications_list_what_happened(client, owner):
    request = submit(owner)
    page = client.get(reverse("portal:notifications"))
    assert "门诊协助申请已提交" in page.text and request.ref in page.text


# --- who may open what --------------------------------------------------------------------


def portal_urls(request: ServiceRequest, document_id: int) -> list[str]:
    member = request.member
    return [
        reverse("portal:home"),
        reverse("portal:request_list"),
        reverse("portal:notifications"),
        reverse("portal:request_new", args=[member.pk, request.benefit.code]),
        reverse("portal:request_detail", args=[request.ref]),
        reverse("portal:request_cancel", args=[request.ref]),
        reverse("portal:document_file", args=[request.ref, document_id]),
    ]


OWN_OBJECT = 4  # from this index on, the URL names the owner's member, request or file


@pytest.mark.parametrize("who", ["anonymous", "other", "owner"])
def test_access_matrix(client, django_user_model, settings, tmp_path, who):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    policy = family("MATRIX-1", "13800000021")
    request = submit(policy)
    document = document_add(
        request, name="a.pdf", data=MINIMAL_PDF, actor=Actor(label="policyholder")
    )
    if who == "owner":
        log_in(client, django_user_model, policy)
    elif who == "other":
        log_in(client, django_user_model, family("MATRIX-2", "13800000022"))
    for index, url in enumerate(portal_urls(request, document.pk)):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("portal:login")), url
        elif who == "other":
            expected = 404 if index >= OWN_OBJECT - 1 else 200
            assert response.status_code == expected, url
        else:
            assert response.status_code == 200, url
    # Only the owner's opening was logged.
    assert DocumentAccess.objects.count() == (1 if who == "owner" else 0)


def test_a_staff_user_without_an_account_gets_404_not_someone_elses_page(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("portal:home")).status_code == 404


# --- query budgets ------------------------------------------------------------------------


def _count_queries(client, url: str, django_assert_max_num_queries, budget: int) -> None:
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url_name", ["portal:home", "portal:request_list"])
def test_pages_cost_the_same_queries_with_1_and_50_requests(
    client, owner, url_name, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit(owner)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse(url_name))
    policy_b = family("PORTAL-MANY", "13800000031")
    request = submit(policy_b)
    ServiceRequest.objects.filter(pk=request.pk).update(
        policy=owner, member=owner.members.get(ref="M2")
    )
    for index in range(49):
        ServiceRequest.objects.create(
            ref=f"SRBULK{index:04d}",
            policy=owner,
            member=owner.members.get(ref="M1"),
            recipient=owner.members.get(ref="M1"),
            benefit=request.benefit,
            status=Status.COMPLETED,
        )
    assert ServiceRequest.objects.filter(policy=owner).count() == 51
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse(url_name))


def test_the_carer_form_asks_for_the_days_and_refuses_more_than_seven(client, owner):
    # 平安 一、6.2 "最多提供 7 天专属护工服务": the days asked for are checked on the form
    member = owner.members.get(ref="M1")
    url = reverse("portal:request_new", args=[member.pk, "pingan.health.inpatient_carer_7d"])
    page = client.get(url)
    assert "需要的天数" in page.text
    start = timezone.localtime() + timedelta(days=2)
    body = {
        "submission_key": "carer-1",
        "planned_at": start.strftime("%Y-%m-%dT%H:%M"),
        "region": "上海市",
        "admitted_on": (start.date() - timedelta(days=1)).isoformat(),
        "check": "1",
    }
    ten = client.post(url, {**body, "days": "10"})
    assert "最多连续7天，本次申请10天" in ten.text
    seven = client.post(url, {**body, "days": "7"})
    assert "符合申请条件" in seven.text
    assert not ServiceRequest.objects.exists()


def test_benefits_page_shows_a_manulife_benefit_ended_when_the_sum_insured_fell_below_standard(
    client, django_user_model
):
    # 001 其他需要被服务人注意的事项 8. "降低保额无法达到相应标准，则对应的健康管理服务自动终止"
    policy = policy_with_members(
        number="PORTAL-SI",
        product="manulife.dmm",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000077"},
    )
    Policy.objects.filter(pk=policy.pk).update(
        sum_insured=Decimal("300000"), standard_sum_insured=Decimal("1000000")
    )
    log_in(client, django_user_model, policy)

    text = client.get(reverse("portal:home")).text

    assert "电话健康咨询" in text
    assert "保单保额300,000元低于本服务要求的1,000,000元" in text
