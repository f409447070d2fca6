"""Forms of the policyholder login. They only parse input; the rules live in
``portal.pages.otp`` and ``portal.pages.accounts``, whose ``DomainError`` messages the views
attach."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from benefits.models import Person
from portal.kernel.errors import DomainError
from portal.pages.otp import CODE_DIGITS, normalise_phone


class OneTimeCodeInput(forms.TextInput):
    """A code field that comes back empty after an error: a wrong code is retyped, not
    edited, and a code is never echoed into the page."""

    def format_value(self, value: Any) -> str | None:
        return None


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("请输入手机号"),
            }
        ),
        error_messages={"required": _("请输入手机号")},
    )

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=CODE_DIGITS,
        min_length=CODE_DIGITS,
        widget=OneTimeCodeInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "placeholder": _("6位数字"),
            }
        ),
        error_messages={
            "required": _("请输入短信验证码"),
            "min_length": _("验证码为6位数字"),
            "max_length": _("验证码为6位数字"),
        },
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("验证码为6位数字"), code="otp_format")
        return code


class BindForm(forms.Form):
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=Person.IdType.choices, initial=Person.IdType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"required": _("请输入证件号码")},
    )
