"""Text messages: Chinese templates rendered here, delivery by a pluggable backend.

``settings.SMS_BACKEND`` names the backend class by dotted path. Development and tests use
``portal.site.sms_outbox.OutboxBackend`` (rows an admin can read); a real provider's backend
implements the same one-method interface. Bodies may carry login codes and appointment
details, so nothing but the masked phone and the template code is ever logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from portal.kernel.identity import mask_phone

logger = logging.getLogger(__name__)

# Template code -> Chinese text with %(name)s placeholders. Codes are stable: a provider
# registers each template under its code, and notifications refer to them by code.
SMS_TEMPLATES: dict[str, Promise] = {
    "login_code": _(
        "【健康服务平台】您的登录验证码为%(code)s，%(minutes)d分钟内有效。"
        "工作人员不会向您索取验证码，请勿告知他人。"
    ),
    "appointment_reminder": _(
        "【健康服务平台】就诊提醒：您预约的%(benefit)s将于%(scheduled_at)s开始，请按时到达。"
        "申请编号%(ref)s。"
    ),
    "follow_up": _(
        "【健康服务平台】%(vendor)s将于近日致电回访您的%(benefit)s服务情况，请留意来电。"
        "申请编号%(ref)s。"
    ),
    "complaint_reply": _(
        "【健康服务平台】您的投诉（编号%(ref)s）有新的回复，请登录健康服务平台查看。"
    ),
    "complaint_extended": _(
        "【健康服务平台】您的投诉（编号%(ref)s）情况较复杂，处理期限延长至%(due)s，"
        "请登录健康服务平台查看。"
    ),
    "complaint_closed": _(
        "【健康服务平台】您的投诉（编号%(ref)s）已办结，处理结果：%(outcome)s。"
        "详情请登录健康服务平台查看。"
    ),
    "phone_changed_old": _(
        "【健康服务平台】您在健康服务平台登记的手机号已于%(when)s变更为%(new_masked)s，"
        "原绑定已解除。如非本人操作，请致电%(hotline)s。"
    ),
    "phone_changed_new": _(
        "【健康服务平台】本手机号已于%(when)s登记为您在健康服务平台的联系手机，"
        "请用本号码重新登录并完成身份验证。如非本人申请，请致电%(hotline)s。"
    ),
}


@dataclass(frozen=True)
class OutgoingSms:
    phone: str
    template_code: str
    context: dict[str, Any]
    body: str


class SmsBackend(Protocol):
    def send(self, message: OutgoingSms) -> None: ...


class LoggingBackend:
    """Logs that a message would be sent: masked phone and template code, never the body."""

    def send(self, message: OutgoingSms) -> None:
        logger.info("sms %s to %s", message.template_code, mask_phone(message.phone))


def render_sms(template_code: str, context: dict[str, Any]) -> str:
    """The message text in Simplified Chinese, whatever language the current request uses."""
    try:
        template = SMS_TEMPLATES[template_code]
    except KeyError:
        raise ValueError(f"unknown SMS template {template_code!r}") from None
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % context


def get_sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(phone: str, template_code: str, context: dict[str, Any]) -> None:
    """Render ``template_code`` with ``context`` and hand it to the configured backend.
    ``phone`` must already be normalised (11 digits, see ``portal.pages.otp.normalise_phone``)."""
    body = render_sms(template_code, context)
    message = OutgoingSms(phone=phone, template_code=template_code, context=context, body=body)
    get_sms_backend().send(message)
