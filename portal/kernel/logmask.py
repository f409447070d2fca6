"""Mainland phone numbers and resident ID numbers never reach a log line in full (PIPL).

``MaskPersonalNumbers`` is a logging filter on the console handler (``settings.LOGGING``):
every record that handler writes, whichever logger it came from (``django.request`` 404s
with an ID number in the path, ``django.server`` request lines with ``?q=13800138000``,
Celery, our own code), is formatted first and masked as the product shows these numbers
everywhere else: ``138****8000`` (``portal.kernel.identity.mask_phone``) and
``110105********002X`` (``portal.kernel.identity.mask_id_number``).

This module imports nothing from the apps, so the logging configuration can load it
before the app registry is ready.
"""

from __future__ import annotations

import copy
import logging
import re

# An 18-digit resident ID (17 digits and a check character) or a first-generation 15-digit
# one, not part of a longer run of letters or digits (an order number, a hash).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# A mainland mobile number, optionally after +86/86 and written in groups (138 0013 8000,
# 138-0013-8000), not inside a longer run of digits.
_PHONE = re.compile(
    r"(?<!\d)(?P<prefix>(?:\+|%2[Bb])?86[ -]?)?(?P<phone>1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)"
)


def mask_id_number(number: str) -> str:
    """Same format as ``portal.kernel.identity.mask_id_number`` (kept here: no app imports)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """Same format as ``portal.kernel.identity.mask_phone``; separators are dropped."""
    digits = re.sub(r"\D", "", phone)
    return digits[:3] + "****" + digits[-4:]


def mask_personal_numbers(text: str) -> str:
    """``text`` with every phone and ID number in it masked; other text unchanged. ID
    numbers go first: a phone-shaped run inside an ID number is not a phone."""
    text = _ID_NUMBER.sub(lambda match: mask_id_number(match[0]), text)
    return _PHONE.sub(lambda match: (match["prefix"] or "") + mask_phone(match["phone"]), text)


class MaskPersonalNumbers(logging.Filter):
    """A handler filter: lets every record through, as a copy whose message, arguments,
    traceback and stack text are masked. The original record is left alone for the other
    handlers (Python 3.12+ handlers emit the record a filter returns)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> logging.LogRecord:
        masked = copy.copy(record)
        # getMessage() applies the arguments: the masked text replaces both.
        masked.msg = mask_personal_numbers(record.getMessage())
        masked.args = None
        if record.exc_info and not record.exc_text:
            masked.exc_text = self._formatter.formatException(record.exc_info)
        if masked.exc_text:
            masked.exc_text = mask_personal_numbers(masked.exc_text)
        # The formatter must use exc_text, not format exc_info again (unmasked).
        masked.exc_info = None
        if record.stack_info:
            masked.stack_info = mask_personal_numbers(record.stack_info)
        return masked
