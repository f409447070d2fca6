"""Policy import, one row at a time: the file's columns, and each row's cells typed and
checked on their own (every problem of the row, not the first). ID and phone numbers only
ever leave a row masked (``RowOutcome.shown``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from benefits.models import Person, Policy, PolicyMember
from benefits.policies.services import looks_like_formula
from benefits.terms.vocabulary import SLUG
from coverage.selectors import region_cached, region_index_cached
from portal.kernel.identity import (
    RESIDENT_ID,
    IdNumberError,
    PhoneNumberError,
    birth_date_from_id,
    mask_id_number,
    mask_phone,
    normalise_phone,
    validate_id_number,
)

# (key, header in the file); English keys are accepted as headers too.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "保单号"),
    ("product", "产品代码"),
    ("status", "保单状态"),
    ("signed_on", "签收日期"),
    ("effective_on", "生效日期"),
    ("expires_on", "满期日期"),
    ("transferred", "转保"),
    ("family", "家庭保单"),
    ("sum_insured", "保额"),
    ("standard_sum_insured", "服务保额标准"),
    ("plan_level", "计划档次"),
    ("riders", "附加险"),
    ("holder_name", "投保人姓名"),
    ("holder_id_type", "投保人证件类型"),
    ("holder_id_number", "投保人证件号码"),
    ("holder_phone", "投保人手机号"),
    ("holder_birth_date", "投保人出生日期"),
    ("member_ref", "被保险人编号"),
    ("member_name", "被保险人姓名"),
    ("member_id_type", "被保险人证件类型"),
    ("member_id_number", "被保险人证件号码"),
    ("member_birth_date", "被保险人出生日期"),
    ("relation", "与投保人关系"),
    ("member_phone", "被保险人手机号"),
    ("home_city", "常住城市"),
    ("hukou_city", "户籍城市"),
    ("mainland_citizen", "中国大陆居民"),
)
HEADER = dict(COLUMNS)
REQUIRED = (
    "number",
    "product",
    "signed_on",
    "effective_on",
    "expires_on",
    "holder_name",
    "holder_id_number",
    "member_ref",
    "member_name",
    "member_id_number",
    "relation",
)
POLICY_KEYS = (
    "product",
    "status",
    "signed_on",
    "effective_on",
    "expires_on",
    "transferred",
    "family",
    "sum_insured",
    "standard_sum_insured",
    "plan_level",
    "riders",
    "holder_name",
    "holder_id_type",
    "holder_id_number",
    "holder_phone",
    "holder_birth_date",
)
DATE_KEYS = ("signed_on", "effective_on", "expires_on", "holder_birth_date", "member_birth_date")
POLICY_FIELDS = ("status", "signed_on", "effective_on", "expires_on", "transferred", "family")
SENSITIVE = {"holder_id_number": mask_id_number, "member_id_number": mask_id_number}
SENSITIVE_PHONES = ("holder_phone", "member_phone")
# Free-text columns: refused when a spreadsheet would run them as a formula. The other
# columns are parsed strictly (dates, choices, ID and phone numbers), which refuses formulas
# too (and "+86 …" is a phone, not a formula).
FREE_TEXT = ("number", "product", "holder_name", "member_ref", "member_name", "plan_level")
# Optional policy columns: a blank cell keeps what is stored.
AMOUNT_KEYS = ("sum_insured", "standard_sum_insured")
CITY_KEYS = ("home_city", "hukou_city")
LABELS = {
    "status": dict(Policy.Status.choices),
    "relation": dict(PolicyMember.Relation.choices),
    "holder_id_type": dict(Person.IdType.choices),
    "member_id_type": dict(Person.IdType.choices),
}
TRUE = {"是", "y", "yes", "true", "1", "t"}
FALSE = {"否", "n", "no", "false", "0", "f", ""}


@dataclass
class RowOutcome:
    line: int
    values: dict[str, Any]  # typed values; ID and phone numbers are in here, never shown
    errors: dict[str, list[str]] = field(default_factory=dict)  # column header → messages
    action: str = ""  # new, update, skip

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(HEADER.get(key, key), []).append(message)

    def shown(self) -> dict[str, str]:
        """The row as it may be displayed: ID and phone numbers masked."""
        shown = {}
        for key, header in COLUMNS:
            value = self.values.get(key)
            if value in (None, ""):
                shown[header] = ""
            elif key in SENSITIVE:
                shown[header] = SENSITIVE[key](str(value))
            elif key in SENSITIVE_PHONES:
                shown[header] = mask_phone(str(value))
            elif key in LABELS:
                shown[header] = str(LABELS[key].get(value, value))
            elif key in ("home_city", "hukou_city"):
                region = region_cached(str(value))
                shown[header] = f"{region.name}（{value}）" if region else str(value)
            elif isinstance(value, bool):
                shown[header] = "是" if value else "否"
            elif isinstance(value, tuple):
                shown[header] = "、".join(value)
            else:
                shown[header] = str(value)
        return shown


# --- cells ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(row: RowOutcome, key: str, value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        row.error(key, _("日期“%(text)s”格式不正确，应为 2026-01-02") % {"text": _text(value)})
        return None


def _flag(row: RowOutcome, key: str, value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if not text:
        return default
    if text in TRUE:
        return True
    if text not in FALSE:
        row.error(key, _("“%(text)s”应为“是”或“否”") % {"text": _text(value)})
    return False


def _choice(row: RowOutcome, key: str, value: Any, choices: Any, default: str | None) -> str:
    text = _text(value)
    if not text and default is not None:
        return default
    for code, label in choices:
        if text in (code, str(label)):
            return code
    labels = "、".join(str(label) for _code, label in choices)
    row.error(key, _("“%(text)s”不正确，可选：%(labels)s") % {"text": text, "labels": labels})
    return text


def _city(row: RowOutcome, key: str, value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    if text.isdigit():
        if region_cached(text) is None:
            row.error(key, _("区划代码“%(text)s”不存在") % {"text": text})
        return text
    resolution = region_index_cached().resolve(text, column="city")
    if resolution.region_code is None:
        message = _("无法识别的城市“%(text)s”：%(why)s")
        row.error(key, message % {"text": text, "why": resolution.message})
        return None
    return resolution.region_code


def _amount(row: RowOutcome, key: str, value: Any) -> Decimal | None:
    """A sum in yuan ("500000", "50万" is refused: the core system exports plain numbers)."""
    text = _text(value).replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        row.error(key, _("金额“%(text)s”格式不正确，应为数字（元）") % {"text": _text(value)})
        return None
    if amount < 0 or not amount.is_finite():
        row.error(key, _("金额不能为负数"))
        return None
    return amount.quantize(Decimal("0.01"))


def _riders(row: RowOutcome, value: Any) -> tuple[str, ...] | None:
    """Rider codes separated by 、 , ； or spaces; blank keeps the stored riders."""
    text = _text(value)
    if not text:
        return None
    codes = tuple(c for c in re.split(r"[、,，;；\s]+", text) if c)
    wrong = [c for c in codes if not SLUG.match(c)]
    if wrong:
        row.error("riders", _("附加险代码“%(codes)s”格式不正确") % {"codes": "、".join(wrong)})
    return codes


def _lead(text: str) -> str:
    """The character that makes a cell a formula, printable in a message."""
    first = text.lstrip(" ")[:1]
    return {"\t": "制表符", "\r": "回车符"}.get(first, first)


def _phone(row: RowOutcome, key: str, value: Any) -> str:
    """The normalised mainland mobile number, as the portal's login accepts it; blank keeps
    the stored one."""
    text = _text(value)
    if not text:
        return ""
    try:
        return normalise_phone(text)
    except PhoneNumberError:
        # The message never repeats the number.
        row.error(key, _("手机号码格式不正确，请填写11位中国大陆手机号码"))
        return ""


def _identity(row: RowOutcome, who: str) -> None:
    """Validates ``<who>_id_number`` (GB 11643 for 身份证) and its birth date, in place."""
    id_type, number = row.values[f"{who}_id_type"], row.values[f"{who}_id_number"]
    if not number:
        return
    try:
        row.values[f"{who}_id_number"] = validate_id_number(id_type, number)
    except IdNumberError as exc:
        row.error(f"{who}_id_number", str(exc))  # the message never repeats the number
        return
    given = row.values[f"{who}_birth_date"]
    embedded = birth_date_from_id(id_type, row.values[f"{who}_id_number"])
    if id_type == RESIDENT_ID and given and embedded and given != embedded:
        row.error(f"{who}_birth_date", _("出生日期与身份证号码不一致"))
    if id_type != RESIDENT_ID and not given:
        row.error(f"{who}_birth_date", _("非身份证须填写出生日期"))


def read_row(line: int, cells: dict[str, Any], products: set[str]) -> RowOutcome:
    """One file row, typed and checked on its own (every problem, not the first)."""
    row = RowOutcome(line, {})
    values = row.values
    for key in REQUIRED:
        if not _text(cells.get(key)):
            row.error(key, _("不能为空"))
    for key in (*FREE_TEXT, *CITY_KEYS):
        raw = cells.get(key)
        if isinstance(raw, str) and looks_like_formula(raw):
            row.error(
                key,
                _("内容以“%(char)s”开头，疑似公式，出于安全原因拒绝导入") % {"char": _lead(raw)},
            )
            cells = {**cells, key: ""}  # checked no further: one message per cell
    for key in FREE_TEXT:
        values[key] = _text(cells.get(key))
    if values["product"] and values["product"] not in products:
        row.error("product", _("产品代码“%(code)s”不存在") % {"code": values["product"]})
    values["status"] = _choice(
        row, "status", cells.get("status"), Policy.Status.choices, "in_force"
    )
    for key in DATE_KEYS:
        values[key] = _date(row, key, cells.get(key))
    if (
        values["effective_on"]
        and values["expires_on"]
        and values["expires_on"] <= values["effective_on"]
    ):
        row.error("expires_on", _("满期日期须晚于生效日期"))
    values["transferred"] = _flag(row, "transferred", cells.get("transferred"), False)
    values["family"] = _flag(row, "family", cells.get("family"), False)
    values["mainland_citizen"] = _flag(row, "mainland_citizen", cells.get("mainland_citizen"), True)
    values["relation"] = _choice(
        row, "relation", cells.get("relation"), PolicyMember.Relation.choices, None
    )
    for who in ("holder", "member"):
        values[f"{who}_id_type"] = _choice(
            row, f"{who}_id_type", cells.get(f"{who}_id_type"), Person.IdType.choices, RESIDENT_ID
        )
        raw = cells.get(f"{who}_id_number")
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            # Excel keeps 15 significant digits: an 18-digit number stored as a number is
            # already wrong, whatever we read back.
            row.error(f"{who}_id_number", _("证件号码须以文本格式保存（数字格式会丢失末位）"))
            values[f"{who}_id_number"] = ""
        else:
            values[f"{who}_id_number"] = _text(raw)
        values[f"{who}_phone"] = _phone(row, f"{who}_phone", cells.get(f"{who}_phone"))
        _identity(row, who)
    for key in AMOUNT_KEYS:
        values[key] = _amount(row, key, cells.get(key))
    values["riders"] = _riders(row, cells.get("riders"))
    values["home_city"] = _city(row, "home_city", cells.get("home_city"))
    values["hukou_city"] = _city(row, "hukou_city", cells.get("hukou_city"))
    return row
