"""Every admin changelist and change page renders for a superuser within a fixed query
budget, whatever the number of rows."""

import pytest
from django.contrib import admin
from django.urls import reverse

from portal.kernel.staff_auth import staff_token_issue
from portal.models import StaffToken

# Session, user, and the page's own queries (count, rows, filters, related lookups).
CHANGELIST_BUDGET = 16
CHANGE_PAGE_BUDGET = 25


def admin_models():
    return sorted(
        (
            model
            for model in admin.site._registry
            if model._meta.app_label in {"benefits", "coverage", "portal", "bookings"}
        ),
        key=lambda m: m._meta.label,
    )


@pytest.fixture
def token(superuser):
    return staff_token_issue(user=superuser, name="测试")[0]


@pytest.fixture
def policy_rows():
    """A policy with a member, a stay and a diagnosis, so their admin pages have rows."""
    from datetime import date

    from benefits.models import Diagnosis, Hospitalisation, Person, Policy, PolicyMember, Product

    person = Person(
        name="李华",
        id_type="resident_id",
        id_number="11010519491231002X",
        birth_date=date(1949, 12, 31),
    )
    person.save()
    policy = Policy.objects.create(
        number="P-ADMIN-1",
        product=Product.objects.get(code="pingan.health"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=person,
    )
    PolicyMember.objects.create(policy=policy, person=person, ref="M1", relation="self")
    Hospitalisation.objects.create(
        person=person, hospital="北京协和医院", admitted_on=date(2026, 3, 1)
    )
    Diagnosis.objects.create(person=person, disease_text="恶性肿瘤", diagnosed_on=date(2026, 3, 2))
    # A phone change, so the record's (read-only) pages have a row.
    from benefits.policies.services import person_save

    person.phone = "13900139000"
    person_save(person=person, channel="admin")
    from benefits.policies.consent import consent_grant

    consent_grant(person, channel="portal")
    return policy


@pytest.fixture
def calendar_rows():
    """The calendar tables are empty until an admin corrects or confirms something."""
    from datetime import date

    from benefits.models import CalendarDay, CalendarYear

    CalendarDay.objects.create(
        date=date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电"
    )
    CalendarYear.objects.create(year=2027)


@pytest.fixture
def portal_rows():
    """An SMS in the outbox and a policyholder account."""
    from portal.pages.accounts import account_for_phone
    from portal.pages.otp import otp_request

    otp_request("13800138000", "127.0.0.1")
    account_for_phone("13800138000")


@pytest.fixture
def bookings_rows(policy_rows, settings, tmp_path):
    """A request with its event, notification, milestones and an opened record; a vendor
    token, workbench account, webhook and delivery."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model

    from benefits.models import Vendor
    from bookings.documents.services import document_add, document_open
    from bookings.models import VendorAccount, VendorWebhook, WebhookDelivery
    from bookings.vendors.services import vendor_token_issue
    from portal.kernel.actor import Actor
    from tests.factories import MINIMAL_PDF, outpatient_request

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    actor = Actor(label="policyholder")
    request = outpatient_request(
        policy=policy_rows,
        at=datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        actor=actor,
    )
    document_open(
        document_add(request, name="病历.pdf", data=MINIMAL_PDF, actor=actor), actor=actor
    )
    vendor = Vendor.objects.first()
    vendor_token_issue(vendor=vendor, name="测试")
    webhook = VendorWebhook.objects.create(
        vendor=vendor, url="https://example.com/hook", secret="s"
    )
    WebhookDelivery.objects.create(webhook=webhook, event="request.assigned", payload={})
    workbench_user = get_user_model().objects.create_user(username="bench", password="x-pass-1")
    VendorAccount.objects.create(user=workbench_user, vendor=vendor, phone="13900000109")
    _settlement_rows(request)
    _complaint_rows(request)


def _complaint_rows(request):
    """A complaint about the request with a reply, so its admin pages have a row."""
    from bookings.complaints.services import complaint_file, complaint_reply
    from portal.kernel.actor import Actor

    complaint = complaint_file(
        policy=request.policy,
        person=request.policy.holder,
        request=request,
        category="delay",
        description="一直没有人联系我",
        channel="portal",
        actor=Actor(label="policyholder"),
    )
    complaint_reply(complaint=complaint, body="已催促服务商今日联系您", author=Actor(label="ops"))


def _settlement_rows(request):
    from datetime import date

    from bookings.models import ContractPrice, ProductPremium, StatementLine, VendorStatement

    benefit = request.benefit
    ContractPrice.objects.create(
        vendor=benefit.vendor, benefit=benefit, basis="times", effective_from=date(2026, 1, 1)
    )
    ProductPremium.objects.create(product=benefit.product, year=2026, net_premium=1000000)
    statement = VendorStatement.objects.create(
        insurer=benefit.product.insurer, vendor=benefit.vendor, month=date(2026, 3, 1)
    )
    StatementLine.objects.create(
        statement=statement,
        request=request,
        request_ref=request.ref,
        benefit=benefit,
        completed_on=date(2026, 3, 2),
        outcome="completed",
    )


@pytest.fixture
def review_item():
    """The seed annexes all resolve, so the review list starts empty: add one name."""
    from coverage.models import CoverageList, UnresolvedName

    return UnresolvedName.objects.create(
        name="不存在市", province="湖北", coverage_list=CoverageList.objects.first()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("model", admin_models(), ids=lambda m: m._meta.label)
def test_changelist_renders_within_budget(
    client,
    superuser,
    token,
    review_item,
    policy_rows,
    calendar_rows,
    portal_rows,
    bookings_rows,
    model,
    django_assert_max_num_queries,
):
    client.force_login(superuser)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with django_assert_max_num_queries(CHANGELIST_BUDGET):
        response = client.get(url)
    assert response.status_code == 200
    assert model.objects.count() > 0


@pytest.mark.django_db
@pytest.mark.parametrize("model", admin_models(), ids=lambda m: m._meta.label)
def test_change_page_renders_within_budget(
    client,
    superuser,
    token,
    review_item,
    policy_rows,
    calendar_rows,
    portal_rows,
    bookings_rows,
    model,
    django_assert_max_num_queries,
):
    client.force_login(superuser)
    obj = model.objects.order_by("pk").last()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    with django_assert_max_num_queries(CHANGE_PAGE_BUDGET):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.django_db
def test_benefit_page_shows_terms_readably_not_as_a_blob(client, superuser):
    from benefits.models import Benefit

    client.force_login(superuser)
    benefit = Benefit.objects.get(code="manulife.dmm.inpatient_carer")
    page = client.get(reverse("admin:benefits_benefit_change", args=[benefit.pk])).content.decode()
    assert "条款摘要" in page
    assert "每保单年度30天" in page
    assert "每保单年度申请不超过2次" in page
    assert "上海抚理健康管理咨询有限公司" in page


@pytest.mark.django_db
def test_benefit_list_filters_by_product_and_searches_the_handbook_text(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:benefits_benefit_changelist")
    page = client.get(url, {"q": "儿童齿科"}).content.decode()
    assert "manulife.hywj.kids_dental" in page
    assert "pingan.health.escort" not in page


@pytest.mark.django_db
def test_a_staff_token_is_shown_once_on_creation_and_only_its_digest_is_stored(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:portal_stafftoken_add"),
        {"user": superuser.pk, "name": "核心系统"},
        follow=True,
    )
    page = response.content.decode()
    token = StaffToken.objects.get(name="核心系统")
    assert "只显示这一次" in page
    raw = page.split("请立即复制保存）：")[1][:60].split("<")[0].strip()
    assert raw.startswith("hbs_")
    assert token.digest != raw and raw not in token.digest
    list_page = client.get(reverse("admin:portal_stafftoken_changelist")).content.decode()
    assert raw not in list_page
