"""One-time login codes sent by SMS.

A code is 6 digits from ``secrets``, stored only as an HMAC digest, valid for 5 minutes and
once; requesting a new code retires the previous one (only a phone's newest code is checked).

Limits live in the database so they hold across web processes: one send per phone per
60 s, 5 per phone per hour, 20 per IP address per hour; 5 wrong codes within 15 minutes
lock the phone (sending and checking) for 15 minutes. Each refusal is a ``DomainError`` with
a stable code and a Chinese message that says how long to wait.

The answers never depend on whether the phone belongs to a policyholder: any valid mainland
mobile number gets a code, and binding to a person happens after login (``portal.pages.accounts``).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.kernel.errors import DomainError
from portal.kernel.identity import PhoneNumberError
from portal.kernel.identity import normalise_phone as normalised_mobile
from portal.kernel.sms import send_sms
from portal.models import OneTimeCode, OtpThrottle

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
RESEND_INTERVAL = timedelta(seconds=60)
PHONE_HOURLY_LIMIT = 5
IP_HOURLY_LIMIT = 20
HOUR = timedelta(hours=1)
MAX_FAILED_ATTEMPTS = 5
# Both the window in which wrong codes add up and how long the phone stays locked after.
LOCK_PERIOD = timedelta(minutes=15)

TOO_MANY_REQUESTS = 429


@dataclass(frozen=True)
class OtpRequested:
    phone: str
    expires_at: datetime
    # When the next code may be requested, for the page's "重新获取" countdown.
    resend_at: datetime


@dataclass(frozen=True)
class OtpResult:
    phone: str
    verified_at: datetime


def normalise_phone(raw: str) -> str:
    """The 11-digit mainland mobile number in ``raw`` (``+86``/``0086``, spaces, dashes and
    brackets allowed), or ``DomainError("phone_invalid")``."""
    # The rule itself lives in portal.kernel.identity, shared with the staff API and the import.
    try:
        return normalised_mobile(raw)
    except PhoneNumberError:
        raise DomainError("phone_invalid", _("请输入正确的11位中国大陆手机号码")) from None


def otp_request(phone: str, ip: str | None, *, now: datetime | None = None) -> OtpRequested:
    """Send a new login code to ``phone`` unless a limit refuses it."""
    now = now or timezone.now()
    phone = normalise_phone(phone)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        throttle = _locked_throttle(phone)
        if throttle.locked_until and throttle.locked_until > now:
            raise _locked_error(throttle.locked_until - now)
        _check_send_limits(phone, ip, now)
        OneTimeCode.objects.create(
            phone=phone,
            ip=ip,
            digest=_code_digest(phone, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    # Sent after the commit: a slow provider never holds the phone's row lock, and a code that
    # failed to be stored is never sent.
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    send_sms(phone, "login_code", {"code": code, "minutes": minutes})
    return OtpRequested(
        phone=phone, expires_at=now + CODE_LIFETIME, resend_at=now + RESEND_INTERVAL
    )


def resend_wait(phone: str, *, now: datetime | None = None) -> int:
    """Seconds until the phone may ask for a new code (0: now), for the login page's
    countdown: the resend interval, the phone's hourly limit and a wrong-code lock. The
    per-IP limit is left out (it is not the phone's); ``otp_request`` still applies it."""
    now = now or timezone.now()
    waits = [timedelta(0)]
    sent = list(
        OneTimeCode.objects.filter(phone=phone, created_at__gt=now - HOUR)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:PHONE_HOURLY_LIMIT]
    )
    if sent:
        waits.append(sent[0] + RESEND_INTERVAL - now)
    if len(sent) >= PHONE_HOURLY_LIMIT:
        waits.append(sent[-1] + HOUR - now)
    locked_until = (
        OtpThrottle.objects.filter(phone=phone).values_list("locked_until", flat=True).first()
    )
    if locked_until:
        waits.append(locked_until - now)
    wait = max(waits)
    return _seconds(wait) if wait > timedelta(0) else 0


def otp_verify(phone: str, code: str, ip: str | None, *, now: datetime | None = None) -> OtpResult:
    """Use the phone's current code if ``code`` matches it. ``ip`` is accepted for the audit
    trail callers keep; the wrong-code lock is per phone, because an attacker changes IPs."""
    now = now or timezone.now()
    phone = normalise_phone(phone)
    code = (code or "").strip()
    with transaction.atomic():
        throttle = _locked_throttle(phone)
        if throttle.locked_until and throttle.locked_until > now:
            raise _locked_error(throttle.locked_until - now)
        current = OneTimeCode.objects.filter(phone=phone).order_by("-created_at", "-id").first()
        if current is None or current.used_at is not None or current.expires_at <= now:
            raise DomainError("otp_expired", _("验证码已失效，请重新获取"))
        if constant_time_compare(current.digest, _code_digest(phone, code)):
            OneTimeCode.objects.filter(pk=current.pk).update(used_at=now)
            OtpThrottle.objects.filter(pk=throttle.pk).update(
                failed_attempts=0, first_failed_at=None, locked_until=None
            )
            return OtpResult(phone=phone, verified_at=now)
        attempts_left = _record_failure(throttle, now)
    # Raised outside the transaction so the failure just counted is kept.
    if attempts_left == 0:
        raise _locked_error(LOCK_PERIOD)
    raise DomainError(
        "otp_invalid",
        ngettext(
            "验证码不正确，还可尝试%(count)d次",
            "验证码不正确，还可尝试%(count)d次",
            attempts_left,
        )
        % {"count": attempts_left},
    )


def _code_digest(phone: str, code: str) -> str:
    # Keyed by SECRET_KEY: a copied table alone does not let anyone try the 10^6 codes.
    return salted_hmac("portal.otp", f"{phone}:{code}", algorithm="sha256").hexdigest()


def _locked_throttle(phone: str) -> OtpThrottle:
    """The phone's throttle row, locked until the surrounding transaction ends."""
    throttle, _created = OtpThrottle.objects.select_for_update().get_or_create(phone=phone)
    return throttle


def _check_send_limits(phone: str, ip: str | None, now: datetime) -> None:
    """Refuse with the longest wait among the limits a send would break."""
    refusals: list[tuple[timedelta, str]] = []
    sent = list(
        OneTimeCode.objects.filter(phone=phone, created_at__gt=now - HOUR)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if sent and now - sent[-1] < RESEND_INTERVAL:
        refusals.append((sent[-1] + RESEND_INTERVAL - now, "otp_too_soon"))
    if len(sent) >= PHONE_HOURLY_LIMIT:
        refusals.append((sent[-PHONE_HOURLY_LIMIT] + HOUR - now, "otp_rate_limited"))
    if ip:
        from_ip = list(
            OneTimeCode.objects.filter(ip=ip, created_at__gt=now - HOUR)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(from_ip) >= IP_HOURLY_LIMIT:
            refusals.append((from_ip[-IP_HOURLY_LIMIT] + HOUR - now, "otp_rate_limited"))
    if not refusals:
        return
    wait, code = max(refusals)
    if code == "otp_too_soon":
        message = _("验证码发送过于频繁，请在%(wait)s后重试")
    else:
        message = _("验证码获取次数过多，请在%(wait)s后重试")
    raise DomainError(
        code,
        message % {"wait": wait_text(wait)},
        status=TOO_MANY_REQUESTS,
        retry_after=_seconds(wait),
    )


def _record_failure(throttle: OtpThrottle, now: datetime) -> int:
    """Count a wrong code; lock the phone at the limit. Returns the attempts left (0: locked)."""
    if throttle.first_failed_at is None or now - throttle.first_failed_at >= LOCK_PERIOD:
        throttle.failed_attempts = 0
        throttle.first_failed_at = now
    throttle.failed_attempts += 1
    if throttle.failed_attempts >= MAX_FAILED_ATTEMPTS:
        throttle.failed_attempts = 0
        throttle.first_failed_at = None
        throttle.locked_until = now + LOCK_PERIOD
        throttle.save(update_fields=["failed_attempts", "first_failed_at", "locked_until"])
        return 0
    throttle.save(update_fields=["failed_attempts", "first_failed_at"])
    return MAX_FAILED_ATTEMPTS - throttle.failed_attempts


def _locked_error(wait: timedelta) -> DomainError:
    return DomainError(
        "otp_locked",
        _("验证码错误次数过多，请在%(wait)s后重试") % {"wait": wait_text(wait)},
        status=TOO_MANY_REQUESTS,
        retry_after=_seconds(wait),
    )


def _seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def wait_text(wait: timedelta) -> str:
    """ "45秒" under two minutes, else whole minutes rounded up ("15分钟")."""
    seconds = _seconds(wait)
    if seconds < 120:
        return ngettext("%(n)d秒", "%(n)d秒", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(n)d分钟", "%(n)d分钟", minutes) % {"n": minutes}
