"""Invalid terms are rejected with a Chinese message naming the field: in code, at load time
and in the admin form."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from benefits.models import Benefit
from benefits.terms.benefit_terms import TermsError, parse_terms

VALID = {"summary": "每年1次", "quota": {"unit": "times", "amount": "1"}}


def with_(**changes):
    return {**VALID, **changes}


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (with_(quota={"unit": "times"}), "quota：有限次权益必须给出数量"),
        (with_(quota={"unit": "unlimited", "amount": "3"}), "不限次的权益不能再设数量"),
        (with_(quota={"unit": "times", "amount": "-1"}), "quota.amount：必须大于 0"),
        (
            with_(quota={"unit": "times", "amount": "1", "period": "window_after_start"}),
            "必须给出时间窗长度",
        ),
        (with_(quota={"unit": "fortnights", "amount": "1"}), "quota.unit：取值不在允许范围内"),
        (
            with_(rules=[{"kind": "lead_time", "clause": "x"}]),
            "rules.0.lead_time.min_lead：缺少必填项",
        ),
        (with_(rules=[{"kind": "guess", "clause": "x"}]), "rules.0：规则/分档类型不认识"),
        (with_(rules=[{"kind": "age", "clause": "x"}]), "年龄规则至少要有上限或下限"),
        (with_(rules=[{"kind": "age", "max_years": 15}]), "clause：缺少必填项"),
        (
            with_(
                rules=[
                    {"kind": "cooling_off", "clause": "a"},
                    {"kind": "cooling_off", "clause": "b"},
                ]
            ),
            "规则重复：cooling_off",
        ),
        (
            with_(
                rules=[
                    {
                        "kind": "not_in_network",
                        "target": "city",
                        "coverage_list": "x.y",
                        "clause": "c",
                    }
                ]
            ),
            "规则引用的名单未在 coverage_lists 中声明：x.y",
        ),
        (with_(documents=[{"code": "身份证", "label": "身份证"}]), "不是有效代码"),
        (
            with_(service_hours={"days": "every_day", "start": "21:00", "end": "09:00"}),
            "结束须晚于开始",
        ),
        (
            with_(
                sla=[
                    {
                        "code": "contact",
                        "label": "联系",
                        "starts_on": "submitted",
                        "due": {"amount": 2, "unit": "weeks", "clock": "working"},
                    }
                ]
            ),
            "工作时间只能以分钟、小时或工作日计",
        ),
        (with_(unknown_field=1), "unknown_field：不认识的字段"),
        # A rule no field can express is not parked in a note: it becomes data (issue 14).
        (with_(notes=["未结构化：降低保额无法达到相应标准"]), "须以“说明：”开头"),
        (with_(notes=["说明：费用范围", "手册未印"]), "notes.1"),
        (
            with_(
                rules=[
                    {
                        "kind": "document_invalid",
                        "document": "prescription",
                        "label": "处方",
                        "valid_for": {"amount": 72, "unit": "hours"},
                        "clause": "c",
                    }
                ]
            ),
            "资料有效期须为整数的自然日或周",
        ),
    ],
)
def test_invalid_terms_are_rejected_with_a_chinese_reason(terms, message):
    with pytest.raises(TermsError) as caught:
        parse_terms(terms)
    assert message in str(caught.value)


def test_valid_terms_round_trip_through_their_stored_form():
    from benefits.terms.benefit_terms import terms_to_json

    terms = parse_terms(
        with_(
            rules=[
                {"kind": "lead_time", "min_lead": {"amount": 48, "unit": "hours"}, "clause": "3.2"}
            ]
        )
    )
    assert parse_terms(terms_to_json(terms)) == terms
    assert terms.reason_codes() == ["lead_time", "quota_exhausted"]


@pytest.mark.django_db
def test_load_catalogue_rejects_an_invalid_file_and_writes_nothing(tmp_path, settings):
    # given a copy of the catalogue where one quota has an unknown unit, and a vendor renamed
    source = tmp_path / "catalogue"
    shutil.copytree(settings.BASE_DIR / "benefits" / "catalogue", source)
    product_file = source / "products" / "pingan.health.yaml"
    text = product_file.read_text(encoding="utf-8")
    assert "unit: times" in text
    product_file.write_text(text.replace("unit: times", "unit: fortnights", 1), encoding="utf-8")
    (source / "parties.yaml").write_text(
        (source / "parties.yaml")
        .read_text(encoding="utf-8")
        .replace("name: 上海镁信健康科技有限公司", "name: 新名字"),
        encoding="utf-8",
    )
    before = Benefit.objects.count()

    with pytest.raises(CommandError) as caught:
        call_command("load_catalogue", source=source)

    assert "目录文件有误，未写入任何数据" in str(caught.value)
    assert "quota.unit：取值不在允许范围内" in str(caught.value)
    assert Benefit.objects.count() == before
    from benefits.models import Vendor

    assert Vendor.objects.get(code="meixin").name == "上海镁信健康科技有限公司"


@pytest.mark.django_db
def test_admin_form_shows_the_reason_and_keeps_the_benefit(client, superuser):
    benefit = Benefit.objects.get(code="manulife.hywj.kids_dental")
    client.force_login(superuser)
    url = f"/admin/benefits/benefit/{benefit.pk}/change/"
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["terms"] = '{"summary": "x", "quota": {"unit": "times"}}'
    data["active"] = "on" if benefit.active else ""

    response = client.post(url, data)

    assert response.status_code == 200  # re-rendered, not saved
    assert "有限次权益必须给出数量" in response.content.decode()
    benefit.refresh_from_db()
    assert benefit.terms["quota"]["unit"] == "times"
    assert benefit.terms["summary"] != "x"
