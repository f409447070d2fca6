"""Policy import from the insurer's core system, through the admin: preview (masked, nothing
written), confirm (written through the policy service), the same file again (nothing
changes), and bad rows (every one reported in Chinese, nothing written)."""

import csv
import io
from datetime import date

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from benefits.demo import resident_id
from benefits.models import Person, Policy
from benefits.policies.import_rows import COLUMNS
from benefits.policies.imports import policies_import
from portal.kernel.identity import mask_id_number

IMPORT_URL = "/admin/benefits/policy/import/"
CONFIRM_URL = "/admin/benefits/policy/process_import/"
HOLDER_ID = resident_id("11010519800501001")
SPOUSE_ID = resident_id("11010519820701002")
CHILD_ID = resident_id("11010520150601003")
OTHER_HOLDER_ID = resident_id("31010119750303004")


def row(**values: str) -> dict[str, str]:
    base = {
        "保单号": "PA-IMP-001",
        "产品代码": "pingan.health",
        "保单状态": "有效",
        "签收日期": "2026-01-01",
        "生效日期": "2026/1/2",
        "满期日期": "2027-01-01",
        "转保": "否",
        "家庭保单": "是",
        "投保人姓名": "王大明",
        "投保人证件号码": HOLDER_ID,
        "投保人手机号": "13800138000",
        "被保险人编号": "M1",
        "被保险人姓名": "王大明",
        "被保险人证件号码": HOLDER_ID,
        "与投保人关系": "本人",
        "被保险人手机号": "13800138000",
        "常住城市": "北京市",
        "户籍城市": "110105",
        "中国大陆居民": "是",
    }
    base.update(values)
    return base


FAMILY = [
    row(),
    row(**{"被保险人编号": "M2", "被保险人姓名": "李小红", "被保险人证件号码": SPOUSE_ID,
           "与投保人关系": "配偶", "被保险人手机号": "13900139000"}),
    row(**{"被保险人编号": "M3", "被保险人姓名": "王小宝", "被保险人证件号码": CHILD_ID,
           "与投保人关系": "子女", "被保险人手机号": ""}),
    row(**{"保单号": "MA-IMP-002", "产品代码": "manulife.dmm", "家庭保单": "否",
           "投保人姓名": "赵四", "投保人证件号码": OTHER_HOLDER_ID, "被保险人姓名": "赵四",
           "被保险人证件号码": OTHER_HOLDER_ID, "常住城市": "襄樊"}),
]  # fmt: skip


def csv_file(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[header for _key, header in COLUMNS])
    writer.writeheader()
    for values in rows:
        writer.writerow(values)
    return SimpleUploadedFile("policies.csv", out.getvalue().encode("utf-8"), "text/csv")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def preview(admin_client, rows):
    return admin_client.post(IMPORT_URL, {"import_file": csv_file(rows), "format": "0"})


def confirm(admin_client, response):
    form = response.context["confirm_form"]
    return admin_client.post(CONFIRM_URL, {name: form[name].value() for name in form.fields})


@pytest.mark.django_db
def test_the_preview_shows_every_row_masked_and_writes_nothing(admin_client):
    response = preview(admin_client, FAMILY)

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["confirm_form"] is not None
    assert [r.import_type for r in response.context["result"].rows] == ["new"] * 4
    for number in (HOLDER_ID, SPOUSE_ID, CHILD_ID, OTHER_HOLDER_ID, "13800138000"):
        assert number not in page
    assert mask_id_number(SPOUSE_ID) in page
    assert not Policy.objects.filter(number__in=["PA-IMP-001", "MA-IMP-002"]).exists()
    assert not Person.objects.filter(name="王小宝").exists()


@pytest.mark.django_db
def test_confirming_writes_each_policy_with_its_members_and_logs_it(admin_client):
    response = confirm(admin_client, preview(admin_client, FAMILY))

    assert response.status_code == 302
    family = Policy.objects.get(number="PA-IMP-001")
    assert (family.product.code, family.effective_on, family.family) == (
        "pingan.health",
        date(2026, 1, 2),
        True,
    )
    members = {m.ref: m for m in family.members.select_related("person__home_city")}
    assert {ref: m.relation for ref, m in members.items()} == {
        "M1": "self",
        "M2": "spouse",
        "M3": "child",
    }
    assert members["M3"].person.birth_date == date(2015, 6, 1)  # from the ID number
    assert members["M1"].person.home_city.code == "110000"
    other = Policy.objects.get(number="MA-IMP-002")
    assert other.members.get().person.home_city.name == "襄阳市"  # 襄樊 was renamed
    assert LogEntry.objects.filter(change_message="从核心系统导入（新建）").count() == 2


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_nothing(admin_client):
    confirm(admin_client, preview(admin_client, FAMILY))
    stamps = dict(Policy.objects.values_list("number", "updated_at"))
    people = dict(Person.objects.values_list("id", "updated_at"))

    again = preview(admin_client, FAMILY)
    assert [r.import_type for r in again.context["result"].rows] == ["skip"] * 4
    response = confirm(admin_client, again)

    assert dict(Policy.objects.values_list("number", "updated_at")) == stamps
    assert dict(Person.objects.values_list("id", "updated_at")) == people
    assert LogEntry.objects.filter(change_message__startswith="从核心系统导入").count() == 2
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[-1] == "保单导入完成：新建0张，更新0张，无变化2张"


@pytest.mark.django_db
def test_a_changed_row_updates_only_its_policy(admin_client):
    confirm(admin_client, preview(admin_client, FAMILY))
    changed = [*FAMILY[:2], row(**{**FAMILY[2], "被保险人手机号": "13700137000"}), FAMILY[3]]

    response = preview(admin_client, changed)

    assert [r.import_type for r in response.context["result"].rows] == [
        "skip",
        "skip",
        "update",
        "skip",
    ]
    confirm(admin_client, response)
    assert Person.objects.get(name="王小宝").phone == "13700137000"


@pytest.mark.django_db
def test_every_bad_row_is_reported_in_chinese_and_nothing_is_written(admin_client):
    bad_check_digit = HOLDER_ID[:-1] + ("0" if HOLDER_ID[-1] != "0" else "1")
    rows = [
        row(),  # a good row: still not written, the file is one change
        row(**{"被保险人编号": "M2", "被保险人证件号码": bad_check_digit, "被保险人姓名": "甲"}),
        row(**{"保单号": "X-2", "产品代码": "nope.product"}),
        row(**{"保单号": "X-3", "常住城市": "火星市"}),
        row(**{"保单号": "X-4", "生效日期": "2026-13-01"}),
    ]

    response = preview(admin_client, rows)

    result = response.context["result"]
    assert response.context.get("confirm_form") is None
    errors = {r.number: r.error.message_dict for r in result.invalid_rows}
    assert sorted(errors) == [3, 4, 5, 6]
    assert errors[3] == {"被保险人证件号码": ["身份证号码校验位不正确，请核对"]}
    assert errors[4] == {"产品代码": ["产品代码“nope.product”不存在"]}
    (city,) = errors[5]["常住城市"]
    assert city.startswith("无法识别的城市“火星市”")
    assert errors[6] == {"生效日期": ["日期“2026-13-01”格式不正确，应为 2026-01-02"]}
    page = response.content.decode()
    assert bad_check_digit not in page and HOLDER_ID not in page
    assert not Policy.objects.filter(number="PA-IMP-001").exists()


@pytest.mark.django_db
def test_rows_of_one_policy_must_agree_on_the_policy(admin_client):
    rows = [
        row(),
        row(**{"被保险人编号": "M2", "被保险人证件号码": SPOUSE_ID, "满期日期": "2028-01-01"}),
    ]

    result = preview(admin_client, rows).context["result"]

    assert {r.number: r.error.message_dict for r in result.invalid_rows} == {
        3: {"满期日期": ["与同一保单第2行不一致"]}
    }


@pytest.mark.django_db
def test_a_file_without_the_required_columns_is_refused(admin_client):
    file = SimpleUploadedFile("x.csv", "保单号,姓名\nA,B\n".encode(), "text/csv")

    result = admin_client.post(IMPORT_URL, {"import_file": file, "format": "0"}).context["result"]

    (invalid,) = result.invalid_rows
    assert invalid.error.messages[0].startswith("缺少列：产品代码、签收日期")


@pytest.mark.django_db
def test_an_id_number_saved_as_an_excel_number_is_refused():
    cells = {key: row()[header] for key, header in COLUMNS if header in row()}
    cells["member_id_number"] = 1.10105198005e17  # what Excel keeps of an 18-digit number

    report = policies_import(rows=[cells], dry_run=True)

    assert not report.ok
    assert report.rows[0].errors == {
        "被保险人证件号码": ["证件号码须以文本格式保存（数字格式会丢失末位）"]
    }


@pytest.mark.django_db
def test_an_excel_file_with_real_date_cells_imports_the_same(admin_client):
    import tablib

    sheet = tablib.Dataset(headers=[header for _key, header in COLUMNS])
    for values in FAMILY[:1]:
        cells = {**values, "签收日期": date(2026, 1, 1), "生效日期": date(2026, 1, 2)}
        sheet.append([cells.get(header, "") for _key, header in COLUMNS])
    file = SimpleUploadedFile("policies.xlsx", sheet.export("xlsx"), "application/vnd.ms-excel")

    response = admin_client.post(IMPORT_URL, {"import_file": file, "format": "1"})
    confirm(admin_client, response)

    policy = Policy.objects.get(number="PA-IMP-001")
    assert (policy.signed_on, policy.effective_on) == (date(2026, 1, 1), date(2026, 1, 2))


@pytest.mark.django_db
def test_the_import_records_sum_insured_plan_and_riders_and_blank_keeps_them():
    # given a 中宏 policy the core system exports with its 保额, standard, plan and riders
    given = row(**{"保单号": "MA-IMP-SI", "产品代码": "manulife.dmm", "家庭保单": "否",
                   "保额": "1,000,000", "服务保额标准": "1000000", "计划档次": "计划一",
                   "附加险": "device_medical_expense、ci_rider"})  # fmt: skip
    cells = {key: given[header] for key, header in COLUMNS if header in given}

    report = policies_import(rows=[cells], dry_run=False)

    assert report.ok, [r.errors for r in report.rows]
    policy = Policy.objects.get(number="MA-IMP-SI")
    assert (policy.sum_insured, policy.standard_sum_insured, policy.plan_level) == (
        1000000,
        1000000,
        "计划一",
    )
    assert policy.riders == ["ci_rider", "device_medical_expense"]

    # when a later export reduces the sum insured and leaves the other columns blank
    later = {**cells, "sum_insured": "500000", "standard_sum_insured": "", "plan_level": "",
             "riders": ""}  # fmt: skip
    assert policies_import(rows=[later], dry_run=False).ok

    # then only the sum insured changed
    policy.refresh_from_db()
    assert (policy.sum_insured, policy.standard_sum_insured, policy.riders) == (
        500000,
        1000000,
        ["ci_rider", "device_medical_expense"],
    )


@pytest.mark.django_db
def test_a_bad_sum_insured_or_rider_code_is_refused_with_the_column_named():
    given = row(**{"保额": "五十万", "附加险": "特药险"})
    cells = {key: given[header] for key, header in COLUMNS if header in given}

    report = policies_import(rows=[cells], dry_run=True)

    assert not report.ok
    assert "保额" in report.rows[0].errors and "附加险" in report.rows[0].errors
