"""The portal's cancellation form: one of the common reasons and/or a free text, recorded
together as the reason on the request's timeline."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REASON_MAX_LENGTH = 300
OTHER = "other"
PRESET_REASONS = [
    ("schedule_conflict", _("时间冲突")),
    ("treated_elsewhere", _("已自行就医")),
    ("no_longer_needed", _("不再需要")),
    (OTHER, _("其他")),
]


class CancelForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("取消原因"), choices=PRESET_REASONS, widget=forms.RadioSelect, required=False
    )
    # Named "reason" as the free text always was: a client posting only it keeps working.
    reason = forms.CharField(
        label=_("补充说明（选填）"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("preset") == OTHER and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", gettext("选择“其他”时请说明取消原因"))
        return cleaned

    def reason_text(self) -> str:
        """What the timeline shows: the chosen reason, then the free text; "客户取消" when
        neither was given."""
        preset = self.cleaned_data.get("preset") or ""
        detail = (self.cleaned_data.get("reason") or "").strip()
        chosen = "" if preset in ("", OTHER) else str(dict(PRESET_REASONS)[preset])
        text = "，".join(part for part in (chosen, detail) if part)
        return text[:REASON_MAX_LENGTH] or gettext("客户取消")
