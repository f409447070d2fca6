"""The workbench's forms. They only parse what the browser sends (text to dates and
amounts); the rules (which event needs a time or a reason, what may be consumed) are the
vendor services' and come back as their Chinese refusals."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.lifecycle.cancellation import CAUSES, EVENT_CAUSES
from bookings.lifecycle.workflow import TRANSITIONS
from bookings.vendors.services import CONSUMPTION_MEASURES, VENDOR_EVENTS

# Within IdempotentResponse.key (100) with the workbench prefix; a UUID is 32 hex digits.
KEY_MAX_CHARS = 64
MEASURE_LABELS = {"days": _("天"), "cny": _("元"), "times": _("次"), "km": _("公里")}


class LoginForm(forms.Form):
    # "username": the field django-axes reads (AXES_USERNAME_FORM_FIELD) to count failures.
    username = forms.CharField(label=_("登录名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("请输入6位数字验证码")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class KeyedForm(forms.Form):
    """Every action form carries the key its first submit is stored under: a second submit
    of the same page (double tap, reload, back and resend) replays the first answer."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=KEY_MAX_CHARS)


class EventForm(KeyedForm):
    event = forms.ChoiceField(
        choices=[(code, TRANSITIONS[code].label) for code in VENDOR_EVENTS],
        widget=forms.HiddenInput,
    )
    at = forms.DateTimeField(
        label=_("预约时间"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("服务地点"), required=False, max_length=200)
    reason = forms.CharField(
        label=_("说明"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    cause = forms.ChoiceField(
        label=_("原因类别"),
        required=False,
        choices=[("", "—"), *((cause, CAUSES[cause]) for cause in EVENT_CAUSES["failed"])],
    )


class ConsumptionForm(KeyedForm):
    measure = forms.ChoiceField(
        label=_("计量单位"), choices=[(m, MEASURE_LABELS[m]) for m in CONSUMPTION_MEASURES]
    )
    amount = forms.DecimalField(label=_("实际消耗数量"), max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("说明（如护工起止日期）"), required=False, max_length=200)


class DeliverableForm(KeyedForm):
    file = forms.FileField(label=_("文件（PDF、JPEG、PNG 或 HEIC）"))
    requirement = forms.CharField(label=_("资料类型（如二诊报告）"), required=False, max_length=100)
