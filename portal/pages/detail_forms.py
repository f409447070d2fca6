"""The forms of the request page: records (several files at once) and the rating."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from benefits.terms.benefit_terms import BenefitTerms
from bookings.lifecycle.rating import COMMENT_MAX_CHARS, STARS
from portal.pages.request_forms import ACCEPT

# At most this many files in one upload: a phone's photo picker can select many.
MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern): cleans each one."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            if len(data) > MAX_FILES:
                raise forms.ValidationError(
                    _("一次最多上传%(n)d个文件") % {"n": MAX_FILES}, code="too_many"
                )
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    file = MultipleFileField(
        label=_("选择文件"),
        help_text=_("可一次选择多个文件（最多10个）：PDF、JPG、PNG或HEIC"),
    )
    requirement = forms.ChoiceField(label=_("资料类型"), required=False)

    def __init__(self, *args: Any, terms: BenefitTerms, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["requirement"]).choices = [("", _("其他资料"))] + [
            (d.code, d.label) for d in terms.documents
        ]


# What each number of stars means, said in words beside it.
STAR_WORDS = {5: _("非常满意"), 4: _("满意"), 3: _("一般"), 2: _("不满意"), 1: _("很不满意")}


def star_choices() -> list[tuple[int, str]]:
    """ "★★★★☆ 4星 满意": the stars, their number and their meaning (a callable, so the
    words are translated per request, not at import)."""
    return [(n, f"{'★' * n}{'☆' * (5 - n)} {n}星 {STAR_WORDS[n]}") for n in reversed(STARS)]


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("服务评分"),
        choices=star_choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择1到5星")},
    )
    comment = forms.CharField(
        label=_("评价（选填）"),
        max_length=COMMENT_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
