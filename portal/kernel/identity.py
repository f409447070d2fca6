"""Identity documents: validation, masking and a keyed digest for matching.

ID numbers are sensitive personal information (PIPL): they are stored encrypted, shown
masked, matched through a keyed digest (never by decrypting every row), and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

RESIDENT_ID = "resident_id"

_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()（）]")


class IdNumberError(ValueError):
    """An ID number that fails validation; the message is Chinese and never repeats it."""


class PhoneNumberError(ValueError):
    """Not a mainland mobile number; the message is Chinese and never repeats the number."""


def normalise_id_number(id_type: str, number: str) -> str:
    cleaned = "".join(number.split()).upper()
    if id_type == RESIDENT_ID:
        cleaned = cleaned.replace("x", "X")
    return cleaned


def validate_id_number(id_type: str, number: str) -> str:
    """The normalised number, or ``IdNumberError``. 身份证 numbers are checked against
    GB 11643 (length, embedded birth date, check digit)."""
    cleaned = normalise_id_number(id_type, number)
    if not cleaned:
        raise IdNumberError("证件号码不能为空")
    if id_type != RESIDENT_ID:
        if not cleaned.isalnum() or not 5 <= len(cleaned) <= 30:
            raise IdNumberError("证件号码格式不正确")
        return cleaned
    try:
        return ric.validate(cleaned)
    except InvalidLength:
        raise IdNumberError("身份证号码应为18位") from None
    except InvalidChecksum:
        raise IdNumberError("身份证号码校验位不正确，请核对") from None
    except (InvalidComponent, InvalidFormat):
        raise IdNumberError("身份证号码格式不正确（出生日期或地区码无效）") from None


def birth_date_from_id(id_type: str, number: str) -> date | None:
    if id_type != RESIDENT_ID:
        return None
    return ric.get_birth_date(number)


def mask_id_number(number: str) -> str:
    """110105********002X: the region and the last four, as Chinese systems usually show."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def id_number_digest(id_type: str, number: str) -> str:
    """A keyed digest to find a person by ID number without decrypting rows."""
    key = (settings.ID_DIGEST_KEY or settings.SECRET_KEY).encode()
    message = f"{id_type}:{normalise_id_number(id_type, number)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "****"


def name_with_phone(name: str, phone: str) -> str:
    """How an admin list shows a person: the name and the masked phone ("王小明 138****8000"),
    so an agent can tell two people of one name apart without seeing the number."""
    return f"{name} {mask_phone(phone)}" if phone else name


def normalise_phone(raw: str) -> str:
    """The 11-digit mainland mobile number in ``raw`` (``+86``/``0086``, spaces, dashes and
    brackets allowed), or ``PhoneNumberError``. The portal's login, the staff API and the
    policy import all accept exactly the numbers this accepts."""
    digits = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.fullmatch(digits):
        raise PhoneNumberError("请输入正确的11位中国大陆手机号码")
    return digits


def phone_key(phone: str) -> str:
    """What two stored phones are compared by: the normalised number when it is one, else
    the text without spaces (insurers' systems send numbers in any spelling)."""
    try:
        return normalise_phone(phone)
    except PhoneNumberError:
        return "".join((phone or "").split())
