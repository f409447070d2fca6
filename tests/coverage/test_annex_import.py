"""Importing an annex file is all or nothing: one unresolved name writes nothing and goes to
the admin's review list, a malformed file is refused with a Chinese message, the same content
twice changes nothing, and CSV (UTF-8 or GBK) and XLSX give the same result."""

import io
import json
import zipfile
from dataclasses import asdict

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from coverage.annex import AnnexFileError
from coverage.models import CoverageList, CoverageListMember, UnresolvedName
from coverage.services import ANNEX_DIR, annex_import

pytestmark = pytest.mark.django_db

LIST_CODE = "pingan.health.escort_cities"
HEADER = ["省份", "城市", "区县", "医院数量", "备注"]
PLUS_NOTE = "+23年10月开放区域（开放县级市及县域服务）"
# A small city list with a heading, a county row without its city, a renamed city and a
# legitimate note that starts with "+".
SAMPLE = [
    ["江苏（2城）", "", "", "", ""],
    ["江苏", "无锡", "", "19", ""],
    ["江苏", "", "宜兴市", "", "县级市"],
    ["江苏", "南京", "", "30", ""],
    ["湖北（1城）", "", "", "", ""],
    ["湖北", "襄樊", "", "8", PLUS_NOTE],
]


def csv_bytes(rows, *, header=HEADER, encoding="utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows, *, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([int(c) if c.isdigit() else (c or None) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def city_list():
    return CoverageList.objects.get(code=LIST_CODE)


def member_ids(coverage_list) -> list[int]:
    return list(
        CoverageListMember.objects.filter(coverage_list=coverage_list)
        .order_by("id")
        .values_list("id", flat=True)
    )


def members(coverage_list) -> list[tuple]:
    return list(
        CoverageListMember.objects.filter(coverage_list=coverage_list)
        .order_by("line")
        .values_list("region__code", "county__code", "printed_name", "hospital_count", "note")
    )


# --- all or nothing ---------------------------------------------------------------------


def test_a_file_with_one_unknown_name_writes_nothing_and_puts_the_name_on_the_review_list(
    city_list,
):
    # given the seeded list, and a file with two good rows and one unknown city
    before = member_ids(city_list)
    digest = city_list.content_digest
    content = csv_bytes(
        [
            ["江苏", "无锡", "", "", ""],
            ["湖北", "襄樊", "", "", ""],
            ["江苏", "不存在市", "", "", ""],
        ]
    )

    # when it is imported
    outcome = annex_import(coverage_list=city_list, content=content, filename="escort.csv")

    # then nothing is written, and the unknown name awaits an admin
    assert (outcome.result.applied, outcome.result.changed) == (False, False)
    assert outcome.result.message == "有1行无法识别，未导入任何数据"
    assert member_ids(city_list) == before
    city_list.refresh_from_db()
    assert city_list.content_digest == digest
    assert list(
        UnresolvedName.objects.filter(coverage_list=city_list).values_list(
            "name", "province", "resolved"
        )
    ) == [("不存在市", "江苏", False)]
    row = next(r for r in outcome.plan.rows if r.status == "unresolved")
    assert row.message == "找不到“不存在市”，请核对名称或在后台添加别名"


def test_an_unknown_name_imported_twice_is_on_the_review_list_once(city_list):
    content = csv_bytes([["江苏", "不存在市", "", "", ""]])
    annex_import(coverage_list=city_list, content=content, filename="a.csv")
    annex_import(coverage_list=city_list, content=content, filename="a.csv")
    assert UnresolvedName.objects.filter(coverage_list=city_list, name="不存在市").count() == 1


def test_a_clean_import_settles_the_names_left_for_review(city_list):
    # given a failed import that left 不存在市 for review
    annex_import(
        coverage_list=city_list,
        content=csv_bytes([["江苏", "不存在市", "", "", ""]]),
        filename="a.csv",
    )
    review = UnresolvedName.objects.get(coverage_list=city_list, name="不存在市")
    assert review.resolved is False

    # when the corrected file imports cleanly
    outcome = annex_import(coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv")

    # then the review item is settled
    assert outcome.result.applied
    review.refresh_from_db()
    assert review.resolved is True


def test_a_dry_run_writes_nothing_even_when_the_file_is_good(city_list):
    before = member_ids(city_list)
    outcome = annex_import(
        coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv", dry_run=True
    )
    assert outcome.result is None
    assert outcome.report()["importable"] is True
    assert member_ids(city_list) == before


# --- replacing and re-importing -----------------------------------------------------------


def test_a_changed_file_replaces_the_members_of_the_list(city_list):
    # when a new version of the list is imported
    outcome = annex_import(coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv")

    # then the list holds exactly its rows, with the printed names and notes kept
    assert (outcome.result.applied, outcome.result.changed) == (True, True)
    assert outcome.result.message == "已导入4条"
    assert members(city_list) == [
        ("320200", None, "无锡", 19, ""),
        ("320200", "320282", "宜兴市", None, "县级市"),
        ("320100", None, "南京", 30, ""),
        ("420600", None, "襄樊", 8, PLUS_NOTE),
    ]
    city_list.refresh_from_db()
    assert city_list.imported_at is not None


def test_reimporting_the_seed_file_changes_nothing(city_list):
    # given the list as load_catalogue imported it
    path = ANNEX_DIR / f"{LIST_CODE}.csv"
    before = member_ids(city_list)

    # when the same bytes are imported again
    outcome = annex_import(coverage_list=city_list, content=path.read_bytes(), filename=path.name)

    # then nothing is rewritten
    assert (outcome.result.applied, outcome.result.changed) == (True, False)
    assert outcome.result.message == "内容与上次导入相同，未作修改"
    assert member_ids(city_list) == before


def test_importing_the_same_new_file_twice_keeps_the_member_ids(city_list):
    annex_import(coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv")
    first = member_ids(city_list)

    outcome = annex_import(coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv")

    assert outcome.result.changed is False
    assert member_ids(city_list) == first


# --- encodings and formats ----------------------------------------------------------------


def test_gbk_csv_and_xlsx_give_the_same_plan_as_utf8_csv(city_list, index):
    def plan(content, filename):
        return annex_import(
            coverage_list=city_list, content=content, filename=filename, dry_run=True, index=index
        ).plan

    utf8 = plan(csv_bytes(SAMPLE), "a.csv")
    gbk = plan(csv_bytes(SAMPLE, encoding="gbk"), "a.csv")
    xlsx = plan(xlsx_bytes(SAMPLE), "a.xlsx")

    assert utf8.counts() == {"heading": 2, "ok": 3, "historical": 1}
    for other in (gbk, xlsx):
        assert [asdict(r) for r in other.rows] == [asdict(r) for r in utf8.rows]
        assert other.members == utf8.members
        assert other.totals == utf8.totals
        assert other.digest() == utf8.digest()


def test_a_utf8_file_with_a_byte_order_mark_is_read_like_one_without(city_list, index):
    with_bom = b"\xef\xbb\xbf" + csv_bytes(SAMPLE)
    outcome = annex_import(
        coverage_list=city_list, content=with_bom, filename="a.csv", dry_run=True, index=index
    )
    assert len(outcome.plan.members) == 4


def test_the_gbk_version_of_an_imported_file_counts_as_unchanged(city_list):
    annex_import(coverage_list=city_list, content=csv_bytes(SAMPLE), filename="a.csv")
    ids = member_ids(city_list)

    outcome = annex_import(
        coverage_list=city_list, content=csv_bytes(SAMPLE, encoding="gbk"), filename="a.csv"
    )

    assert outcome.result.changed is False
    assert member_ids(city_list) == ids


# --- malformed files ----------------------------------------------------------------------


def _xlsx_with_formula() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["江苏", "无锡", None, "=1+2", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


MALFORMED = [
    pytest.param(
        csv_bytes([["江苏", "无锡", ""]], header=["省份", "城市", "医院"]),
        "表头应为：省份,城市,区县,医院数量,备注（当前为：省份,城市,医院）",
        id="wrong-headers",
    ),
    pytest.param(b"", "文件为空", id="empty"),
    pytest.param(b" \r\n\r\n  ", "文件为空", id="blank"),
    pytest.param(
        b"\x00\x01\x02\x03\xff\xfe", "不是 CSV 或 Excel 文件（文件内容为二进制）", id="binary"
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        "不是 CSV 或 Excel 文件（文件内容为二进制）",
        id="png",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "", "=cmd|' /C calc'!A0"]]),
        "第2行第5列以“=”开头，疑似公式，出于安全原因拒绝导入",
        id="formula-equals",
    ),
    pytest.param(
        csv_bytes([["江苏", "@SUM(1)", "", "", ""]]),
        "第2行第2列以“@”开头，疑似公式",
        id="formula-at",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "", "+1+cmd|x!A"]]),
        "第2行第5列以“+”开头，疑似公式",
        id="formula-plus",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "", "-2+3+cmd|' /C calc'!A0"]]),
        "第2行第5列以“-”开头，疑似公式",
        id="formula-minus",
    ),
    pytest.param(
        _xlsx_with_formula(),
        "第2行第4列是公式，出于安全原因不接受公式，请粘贴为数值",
        id="xlsx-formula",
    ),
    pytest.param(
        b"PK\x03\x04" + b"\x14\x00" * 20,
        "不是 CSV 或 Excel 文件",
        id="zip-signature-then-binary",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "3.5", ""]]),
        "第2行“医院数量”应为整数（当前为“3.5”）",
        id="count-decimal",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "十", ""]]),
        "第2行“医院数量”应为整数（当前为“十”）",
        id="count-chinese",
    ),
    pytest.param(
        csv_bytes([["江苏", "无锡", "", "", "", "多余"]]),
        "第2行的列数多于表头（6列）",
        id="extra-column",
    ),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED)
def test_a_malformed_file_is_refused_with_a_chinese_message_and_writes_nothing(
    city_list, content, message
):
    before = member_ids(city_list)

    with pytest.raises(AnnexFileError) as refused:
        annex_import(coverage_list=city_list, content=content, filename="upload.csv")

    assert message in str(refused.value)
    assert member_ids(city_list) == before
    assert not UnresolvedName.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused_as_a_broken_excel_file(city_list):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是表格")
    with pytest.raises(AnnexFileError, match=r"Excel 文件已损坏或不是 \.xlsx 格式"):
        annex_import(coverage_list=city_list, content=buffer.getvalue(), filename="a.xlsx")


def test_a_header_only_file_is_refused_as_empty_and_leaves_the_list_untouched(city_list):
    before = member_ids(city_list)

    with pytest.raises(AnnexFileError, match="文件只有表头，没有数据行"):
        annex_import(coverage_list=city_list, content=csv_bytes([]), filename="template.csv")

    assert member_ids(city_list) == before


@pytest.mark.parametrize("count", ["①", "3²"])
def test_a_hospital_count_in_circled_or_superscript_digits_is_refused_with_a_chinese_message(
    city_list, count
):
    with pytest.raises(AnnexFileError, match="应为整数"):
        annex_import(
            coverage_list=city_list,
            content=csv_bytes([["江苏", "无锡", "", count, ""]]),
            filename="a.csv",
        )


@pytest.mark.parametrize("note", [PLUS_NOTE, "+1城", "-暂停服务"])
def test_legitimate_notes_starting_with_plus_or_minus_are_accepted(city_list, note):
    outcome = annex_import(
        coverage_list=city_list,
        content=csv_bytes([["江苏", "无锡", "", "", note]]),
        filename="a.csv",
    )
    assert outcome.result.applied
    assert members(city_list) == [("320200", None, "无锡", None, note)]


# --- the import_annex command --------------------------------------------------------------


def test_the_command_dry_run_prints_a_json_report_row_by_row(tmp_path, city_list):
    # given a file with a renamed city and a county-level city
    path = tmp_path / "escort.csv"
    path.write_bytes(csv_bytes(SAMPLE))
    before = member_ids(city_list)
    out = io.StringIO()

    # when it is checked from the command line
    call_command(
        "import_annex", str(path), list_code=LIST_CODE, dry_run=True, json=True, stdout=out
    )

    # then every row is reported with its status, code, official name and message
    report = json.loads(out.getvalue())
    assert report["list"] == LIST_CODE
    assert report["importable"] is True and report["applied"] is None
    assert len(report["rows"]) == len(SAMPLE)
    for row in report["rows"]:
        assert {"status", "input_name", "region_code", "canonical_name", "message"} <= set(row)
    xiangfan = next(r for r in report["rows"] if r["input_name"] == "襄樊")
    assert (xiangfan["status"], xiangfan["region_code"], xiangfan["canonical_name"]) == (
        "historical",
        "420600",
        "襄阳市",
    )
    assert "已更名" in xiangfan["message"]
    assert member_ids(city_list) == before


def test_the_command_refuses_a_file_with_an_unresolved_name_and_writes_nothing(tmp_path, city_list):
    path = tmp_path / "escort.csv"
    path.write_bytes(csv_bytes([["江苏", "无锡", "", "", ""], ["江苏", "不存在市", "", "", ""]]))
    before = member_ids(city_list)

    with pytest.raises(CommandError, match="有无法识别的行，未导入任何数据"):
        call_command("import_annex", str(path), list_code=LIST_CODE, stdout=io.StringIO())

    assert member_ids(city_list) == before
    assert UnresolvedName.objects.filter(coverage_list=city_list, name="不存在市").exists()


def test_the_command_reports_a_malformed_file_in_chinese(tmp_path, city_list):
    path = tmp_path / "escort.csv"
    path.write_bytes(csv_bytes([["江苏", "无锡", "", "", "=1+1"]]))
    out = io.StringIO()

    with pytest.raises(CommandError, match="疑似公式"):
        call_command("import_annex", str(path), list_code=LIST_CODE, json=True, stdout=out)

    assert "疑似公式" in json.loads(out.getvalue())["error"]


def test_the_command_refuses_an_unknown_list_code(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(SAMPLE))
    with pytest.raises(CommandError, match=r"没有代码为“no\.such\.list”的名单"):
        call_command("import_annex", str(path), list_code="no.such.list", stdout=io.StringIO())


def test_the_command_imports_a_good_file_and_says_how_many_rows(tmp_path, city_list):
    path = tmp_path / "escort.csv"
    path.write_bytes(csv_bytes(SAMPLE))
    out = io.StringIO()

    call_command("import_annex", str(path), list_code=LIST_CODE, stdout=out)

    assert "已导入4条" in out.getvalue()
    assert "襄樊 → 襄阳市（420600）" in out.getvalue()
    assert len(member_ids(city_list)) == 4
