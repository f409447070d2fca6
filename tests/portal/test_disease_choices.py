"""Diseases as people name them: a synonym or sub-type printed in the disease list's 别名
column (肺癌、乳腺癌 → 恶性肿瘤; 心梗 → 急性心肌梗塞) is the listed disease for the engine's
diagnosis check, so the staff API and the portal form agree; an unlisted disease is still
refused; the portal form offers the list (with its other names) as choices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from coverage.annex import AnnexFileError, read_table
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import make_policy
from tests.factories import policyholder_login

ask = support.ask
fresh_memos = support.fresh_memos

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]

SECOND_OPINION = "pingan.health.second_opinion"
CI_OUTPATIENT = "manulife.hywj.ci_outpatient"


def body(policy, benefit: str, disease: str) -> dict:
    return {
        "policy": policy.number,
        "member": "M1",
        "benefit": benefit,
        "at": "2026-06-01T10:00:00+08:00",
        "context": {
            "diagnosis": {"confirmed": True, "diagnosed_on": "2026-05-01", "disease": disease}
        },
    }


def reason_codes(response) -> list[str]:
    return [r["code"] for r in response.json()["reasons"]]


@pytest.mark.parametrize("disease", ["恶性肿瘤", "肺癌", "乳腺癌", "白血病"])
def test_a_cancer_by_its_own_name_is_the_listed_malignant_tumour(ask, disease):
    policy = make_policy("pingan.health")
    response = ask(body(policy, SECOND_OPINION, disease))
    assert response.status_code == 200
    assert response.json()["eligible"] is True, response.json()


@pytest.mark.parametrize("disease", ["心梗", "急性心肌梗死", "脑梗", "尿毒症"])
def test_common_names_of_listed_diseases_qualify(ask, disease):
    policy = make_policy("pingan.health")
    assert ask(body(policy, SECOND_OPINION, disease)).json()["eligible"] is True


@pytest.mark.parametrize("disease", ["感冒", "皮肤癌", "原位癌"])
def test_a_disease_the_list_does_not_name_is_still_refused(ask, disease):
    policy = make_policy("pingan.health")
    response = ask(body(policy, SECOND_OPINION, disease))
    assert response.json()["eligible"] is False
    assert "condition_not_covered" in reason_codes(response)


def test_another_insurers_list_maps_its_own_severe_form(ask):
    # 中宏's list prints 恶性肿瘤-重度: 肺癌 and 恶性肿瘤 are both read as it.
    policy = make_policy("manulife.hywj")
    for disease in ("肺癌", "恶性肿瘤", "心梗"):
        response = ask(body(policy, CI_OUTPATIENT, disease))
        assert "condition_not_covered" not in reason_codes(response), (disease, response.json())


def test_a_disease_file_without_the_alias_column_still_imports():
    table = read_table("序号,疾病名称,定义,备注\n1,恶性肿瘤,,\n".encode(), "d.csv", "disease")
    assert table.headers[-1] == "别名"
    assert table.rows == [(2, ["1", "恶性肿瘤", "", "", ""])]


def test_a_disease_file_with_other_columns_is_refused():
    with pytest.raises(AnnexFileError, match="表头应为"):
        read_table("序号,疾病名称,别称\n1,恶性肿瘤,癌\n".encode(), "d.csv", "disease")


# --- the portal form ---------------------------------------------------------------------------


@pytest.fixture
def form_url(client):
    policy = policy_with_members(
        number="DISEASE-PORTAL-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000072"},
    )
    policyholder_login(client, policy.holder)
    member = policy.members.get(ref="M1")
    return reverse("portal:request_new", args=[member.pk, SECOND_OPINION])


def test_the_form_offers_the_listed_diseases_and_their_other_names(client, form_url):
    page = client.get(form_url)
    assert page.status_code == 200
    assert 'list="disease-choices"' in page.text
    assert '<option value="恶性肿瘤">' in page.text
    assert '<option value="肺癌">恶性肿瘤</option>' in page.text


def test_the_form_checks_lung_cancer_as_eligible(client, form_url):
    diagnosed = (timezone.localdate() - timedelta(days=3)).isoformat()
    page = client.post(
        form_url,
        {
            "submission_key": "d1",
            "disease": "肺癌",
            "confirmed": "1",
            "diagnosed_on": diagnosed,
            "check": "1",
        },
    )
    assert page.status_code == 200
    assert page.context["verdict"].eligible, page.context["verdict"]
    assert "符合申请条件" in page.text
