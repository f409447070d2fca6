"""The 省/市/区 picker of the request form and the awkward names people type: the choices come
from the region table (a municipality is its own city), a choice changed asks for the next
ones (htmx fragment, or the form posted back with "更新列表" without JavaScript), the deepest
choice is the place, a typed district is read inside the province chosen (朝阳区 with 北京 is
北京市朝阳区), the hospitals of the network in the chosen city are offered; every awkward
name gets a useful answer, never a 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from bookings.models import ServiceRequest
from portal.kernel.memo import Memo
from tests.factories import policyholder_login

pytestmark = pytest.mark.django_db

OUTPATIENT = "pingan.health.outpatient_assist"  # asks for the city (a city network)
MDT = "pingan.health.tumor_mdt"  # asks for the hospital (a list of named hospitals)
BEIJING, CHAOYANG = "110000", "110105"


@pytest.fixture(autouse=True)
def fresh_memos():
    Memo.clear_all()
    yield
    Memo.clear_all()


@pytest.fixture
def member(client):
    policy = policy_with_members(
        number="PICKER-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000093"},
    )
    policyholder_login(client, policy.holder)
    return policy.members.get(ref="M1")


def form_url(member, benefit: str = OUTPATIENT) -> str:
    return reverse("portal:request_new", args=[member.pk, benefit])


def picker_url(member, benefit: str = OUTPATIENT) -> str:
    return reverse("portal:place_picker", args=[member.pk, benefit])


def test_the_form_offers_every_province_and_loads_htmx_from_our_own_static(client, member):
    page = client.get(form_url(member))
    assert page.status_code == 200
    assert '<option value="110000">北京市</option>' in page.text
    assert '<option value="330000">浙江省</option>' in page.text
    assert 'id="place-picker"' in page.text and picker_url(member) in page.text
    assert "/static/portal/vendor/htmx-2.0.11.min.js" in page.text
    assert "<noscript>" in page.text  # the refresh button for browsers without JavaScript


def test_a_province_chosen_offers_its_cities_and_a_city_its_districts(client, member):
    cities = client.get(picker_url(member), {"province": "330000"})
    assert cities.status_code == 200
    assert '<option value="330100">杭州市</option>' in cities.text
    assert "330102" not in cities.text  # no districts before a city is chosen
    districts = client.get(picker_url(member), {"province": "330000", "city": "330100"})
    assert '<option value="330102">上城区</option>' in districts.text
    assert '<option value="330100" selected>杭州市</option>' in districts.text


def test_a_municipality_is_its_own_city_with_its_districts(client, member):
    page = client.get(picker_url(member), {"province": BEIJING, "city": BEIJING})
    assert '<option value="110000" selected>北京市</option>' in page.text
    assert f'<option value="{CHAOYANG}">朝阳区</option>' in page.text


def test_without_javascript_the_refresh_posts_back_unchecked(client, member):
    page = client.post(
        form_url(member), {"submission_key": "p1", "province": "330000", "pick": "1"}
    )
    assert page.status_code == 200
    assert '<option value="330100">杭州市</option>' in page.text
    assert 'class="field__error"' not in page.text  # nothing is judged yet
    assert not ServiceRequest.objects.exists()


def test_the_deepest_choice_is_the_place_submitted(client, member):
    response = client.post(
        form_url(member),
        {
            "submission_key": "p2",
            "province": BEIJING,
            "city": BEIJING,
            "county": CHAOYANG,
            "region": "",
            "submit": "1",
        },
    )
    assert response.status_code == 302
    assert ServiceRequest.objects.get().region.code == CHAOYANG


def test_a_city_left_over_from_another_province_is_not_taken(client, member):
    page = client.post(
        form_url(member),
        {"submission_key": "p3", "province": BEIJING, "city": "330100", "submit": "1"},
    )
    assert page.status_code == 200
    assert list(page.context["form"].errors) == ["region"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("typed", "province", "code"),
    [
        ("上海市浦东新区", "", "310115"),
        ("北京市朝阳区", "", CHAOYANG),
        ("杭州市上城区", "", "330102"),
        ("朝阳区", BEIJING, CHAOYANG),
    ],
)
def test_awkward_names_are_read_and_submitted_as_their_district(
    client, member, typed, province, code
):
    data = {"submission_key": "p4", "region": typed, "province": province}
    checked = client.post(form_url(member), {**data, "check": "1"})
    assert checked.status_code == 200 and checked.context["form"].errors == {}
    assert "符合申请条件" in checked.text
    submitted = client.post(form_url(member), {**data, "submit": "1"})
    assert submitted.status_code == 302
    assert ServiceRequest.objects.get().region.code == code


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("帝都", "无法识别“帝都”，请输入省市区名称"),
        ("朝阳区", "北京市朝阳区"),  # without a province: the places it could mean
    ],
)
def test_unreadable_names_are_answered_in_chinese_under_the_field(client, member, typed, said):
    for button in ("check", "submit"):
        page = client.post(form_url(member), {"submission_key": "p5", "region": typed, button: "1"})
        assert page.status_code == 200
        assert said in page.text
        assert "context.region" not in page.text
    assert not ServiceRequest.objects.exists()


def test_the_hospitals_of_the_chosen_city_are_offered(client, member):
    page = client.get(form_url(member, MDT))
    assert 'list="hospital-choices"' in page.text
    assert '<option value="上海高博肿瘤医院">' in page.text
    shanghai = client.get(picker_url(member, MDT), {"province": "310000", "city": "310000"})
    assert 'hx-swap-oob="true"' in shanghai.text and "上海高博肿瘤医院" in shanghai.text
    beijing = client.get(picker_url(member, MDT), {"province": BEIJING, "city": BEIJING})
    assert "上海高博肿瘤医院" not in beijing.text


def test_the_picker_of_another_persons_member_is_404(client, member):
    other = policy_with_members(
        number="PICKER-2",
        product="pingan.health",
        members=[("赵六", date(1980, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000094"},
    ).members.get(ref="M1")
    assert client.get(picker_url(other)).status_code == 404


def test_the_picker_costs_a_fixed_number_of_queries(client, member, django_assert_max_num_queries):
    client.get(picker_url(member), {"province": "330000"})  # memos warm
    # session, user, account, members, benefit, family, and the chosen city's region (read
    # once per process for the hospital choices), the vendors named by the records consent:
    # the region table itself is in memory
    with django_assert_max_num_queries(8):
        assert (
            client.get(picker_url(member), {"province": "330000", "city": "330100"}).status_code
            == 200
        )
