"""The request form, built from the benefit's terms: it asks only for what the rules of this
benefit need (where, which stay, which diagnosis, when, how much, which option)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from benefits.eligibility.facts import DiagnosisInput, StayInput
from benefits.eligibility.places import place_problem
from benefits.models import Benefit, PolicyMember
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.rules import (
    CoveredConditionRule,
    FilingDeadlineRule,
    HospitalisationRule,
    ItemListRule,
    LeadTimeRule,
    NetworkRule,
    RecipientRule,
    TimeWindowRule,
    UnsuitableConditionRule,
    WaitingPeriodRule,
)
from bookings.documents.sharing import records_consent_terms
from bookings.lifecycle.submission import RequestInput
from coverage.selectors import region_children
from portal.pages.pickers import (
    DISEASE_LIST_ID,
    HOSPITAL_LIST_ID,
    DatalistInput,
    city_choices,
    county_choices,
    disease_options,
    hospital_options,
    picked_code,
    typed_place_code,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.utils.functional import _StrOrPromise as StrOrPromise

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACCEPT = ".pdf,.jpg,.jpeg,.png,.heic,application/pdf,image/jpeg,image/png,image/heic"


# The place group of the form: the three choices, then the place typed.
PICKER_FIELDS = ("province", "city", "county", "region")

# The form fields that give each fact the engine may ask for (``Missing.fact``).
FACT_FIELDS: dict[str, tuple[str, ...]] = {
    "planned_at": ("planned_at",),
    "place": ("hospital", "region"),
    "hospitalisation": ("admitted_on",),
    "discharged_on": ("discharged_on",),
    "diagnosis": ("disease", "diagnosed_on"),
    "category": ("category",),
    "site": ("site",),
    "variant": ("variant",),
    "item": ("item",),
    "surgery": ("surgery",),
}


def _needs(terms: BenefitTerms) -> set[str]:
    needs: set[str] = set()
    for rule in terms.rules:
        if isinstance(rule, NetworkRule):
            # A hospital or pharmacy list is checked by name; a city list by the city, and
            # the hospital is then only asked for so the service team knows where to go.
            needs.add("hospital" if rule.target in ("hospital", "pharmacy") else "region")
            if rule.location == "hospital" and rule.target == "city":
                needs.add("hospital_name")
        elif isinstance(rule, HospitalisationRule):
            needs.add("stay")
        elif isinstance(rule, TimeWindowRule):
            if rule.anchor in ("admission", "discharge"):
                needs.add("stay")
            if rule.anchor == "diagnosis":
                needs.add("diagnosis")
            if rule.subject == "service":
                needs.add("planned_at")
        elif isinstance(rule, CoveredConditionRule):
            needs.add("diagnosis")
        elif isinstance(rule, WaitingPeriodRule) and rule.diagnosis_inside_disqualifies:
            needs.add("diagnosis")
        elif isinstance(rule, LeadTimeRule):
            needs.add("planned_at")
            if rule.per_site:
                needs.add("site")
        elif isinstance(rule, FilingDeadlineRule):
            for deadline in rule.deadlines:
                needs.add("stay" if deadline.after in ("admission", "discharge") else "visit")
    if terms.quota.period == "per_hospitalisation":
        needs.add("stay")
    if terms.cancellation and terms.cancellation.free_before:
        needs.add("planned_at")
    return needs


def _select(
    label: StrOrPromise, blank: StrOrPromise, options: list[tuple[str, str]]
) -> forms.CharField:
    """An optional choice of the place picker; its value is checked in ``clean_region``."""
    choices: list[tuple[str, StrOrPromise]] = [("", blank), *options]
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


class ServiceRequestForm(forms.Form):
    region_required: StrOrPromise | None = None  # the engine's message when the place is asked for
    submission_key = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("补充说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        benefit: Benefit,
        member: PolicyMember,
        family: list[PolicyMember],
        asked: dict[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.benefit = benefit
        self.member = member
        self.terms = benefit.parsed_terms
        self.needs = _needs(self.terms)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)
        # Fields in the order the page shows them; the note goes last.
        self._add_recipient_field(family)
        self._add_option_field()
        self._add_time_field()
        self._add_site_field()
        self._add_scope_fields()
        self._add_place_fields()
        self._add_stay_fields()
        self._add_diagnosis_fields()
        self._add_amount_fields()
        self._add_conditions_field()
        self._add_document_fields()
        self.fields["note"] = self.fields.pop("note")
        self._add_records_consent_field()
        self._ask(asked or {})

    def _add_records_consent_field(self) -> None:
        """The separate consent to provide this request's records to its vendor (PIPL art.
        23), last, never ticked in advance: unticked, the request is made but the vendor
        cannot open its records (``bookings.documents.sharing``)."""
        terms = records_consent_terms(self.benefit)
        self.fields["records_consent"] = forms.BooleanField(
            label=_("我同意按上述说明向服务商提供本次申请的资料"),
            required=False,
            help_text=terms.purpose,
        )

    def _ask(self, asked: dict[str, str]) -> None:
        """A field is required exactly when the engine asks for its fact (with no facts of
        the use given), and its "required" message is the engine's."""
        for fact, names in FACT_FIELDS.items():
            if fact == "place":  # the hospital when a list names hospitals, else the city
                names = ("hospital",) if "hospital" in self.needs else ("region",)
            present = [name for name in names if name in self.fields]
            for name in present:
                field = self.fields[name]
                field.required = fact in asked
                if fact in asked:
                    field.error_messages["required"] = asked[fact]
        if "region" in self.fields:
            # The place may be chosen instead of typed: required is checked in clean().
            region = self.fields["region"]
            self.region_required = region.error_messages["required"] if region.required else None
            region.required = False

    def _add_site_field(self) -> None:
        # Lead times per clinic (博鳌: 普通门诊 2 天 … 专家门诊 15 天): the clinic decides.
        sites = list(
            dict.fromkeys(
                s.site for r in self.terms.rules if isinstance(r, LeadTimeRule) for s in r.per_site
            )
        )
        if sites:
            self.fields["site"] = forms.ChoiceField(
                label=_("就诊医院及门诊类型"), choices=[(s, s) for s in sites]
            )

    def _add_scope_fields(self) -> None:
        """The service mode (线下面诊, 专家门诊), the item on the benefit's list and whether the
        stay had an operation, where a rule needs them (issue 14)."""
        terms = self.terms
        if terms.variants and any(r.only_for for r in terms.rules):
            self.fields["variant"] = forms.ChoiceField(
                label=_("服务方式"),
                choices=[(v.code, v.label) for v in terms.variants],
                required=False,
                initial=terms.default_variant or None,
            )
        for rule in terms.rules:
            if isinstance(rule, ItemListRule):
                label = _("项目（%(what)s）") % {"what": rule.label}
                if rule.items:
                    self.fields["item"] = forms.ChoiceField(
                        label=label,
                        choices=[("", "——")] + [(i.code, i.label) for i in rule.items],
                        required=False,
                    )
                else:
                    self.fields["item"] = forms.CharField(
                        label=label, max_length=120, required=False
                    )
                break
        if any(isinstance(r, HospitalisationRule) and r.requires_surgery for r in terms.rules):
            self.fields["surgery"] = forms.TypedChoiceField(
                label=_("本次住院是否手术"),
                choices=[("", "——"), ("1", _("是")), ("0", _("否"))],
                coerce=lambda value: value == "1",
                empty_value=None,
                required=False,
            )

    def _add_recipient_field(self, family: list[PolicyMember]) -> None:
        member, terms = self.member, self.terms
        recipient_rule = next((r for r in terms.rules if isinstance(r, RecipientRule)), None)
        if not (recipient_rule and "family" in recipient_rule.allowed and family):
            return
        choices = [(member.pk, f"{member.person.name}（{_('本人')}）")]
        choices += [
            (m.pk, f"{m.person.name}（{m.get_relation_display()}）")
            for m in family
            if not recipient_rule.family_relations or m.relation in recipient_rule.family_relations
        ]
        self.fields["recipient"] = forms.TypedChoiceField(
            label=_("服务对象"),
            choices=choices,
            coerce=int,
            initial=member.pk,
            required=False,
            empty_value=None,
        )

    def _add_option_field(self) -> None:
        if self.terms.exclusive_choice:
            self.fields["option"] = forms.ChoiceField(
                label=_("选择项目（每年只能选一项）"),
                choices=[(o.code, o.label) for o in self.terms.exclusive_choice.options],
            )

    def _add_time_field(self) -> None:
        if "planned_at" in self.needs or "visit" in self.needs:
            # A claim after the fact (补贴) asks when the visit was; a booking, when to serve.
            label = _("期望服务时间") if "planned_at" in self.needs else _("就诊时间")
            self.fields["planned_at"] = forms.DateTimeField(
                label=label, widget=DATETIME_WIDGET, input_formats=["%Y-%m-%dT%H:%M"]
            )

    def _add_place_fields(self) -> None:
        f = self.fields
        if "region" in self.needs:
            self._add_place_picker(_("服务所在城市"), required=True)
        if "hospital" in self.needs or "hospital_name" in self.needs:
            f["hospital"] = forms.CharField(
                label=_("医院名称"),
                max_length=200,
                required="hospital" in self.needs,
                widget=DatalistInput(
                    hospital_options(self.terms, self._picked_place()), HOSPITAL_LIST_ID
                ),
                help_text=_("可从列表中选择服务网络内的医院，也可直接输入"),
            )
            if "region" not in f:
                self._add_place_picker(_("医院所在城市"), required=False)

    def _add_place_picker(self, label: StrOrPromise, *, required: bool) -> None:
        """省/市/区 choices (``portal.pages.pickers``) and, beside them, the place typed."""
        province, city = self._value("province"), self._value("city")
        self.fields["province"] = _select(_("省份"), _("请选择省份"), region_children(None))
        self.fields["city"] = _select(_("城市"), _("请选择城市"), city_choices(province))
        self.fields["county"] = _select(_("区县"), _("全市/请选择区县"), county_choices(city))
        self.fields["region"] = forms.CharField(
            label=label,
            max_length=60,
            required=required,
            help_text=_(
                "可用上方选择，或直接输入，如：上海市浦东新区、杭州市上城区，或6位行政区划代码"
            ),
        )

    def _value(self, name: str) -> str:
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        return str(value or "").strip()

    def _picked_place(self) -> str | None:
        """The place chosen or typed so far (for the hospital choices), without checking it."""
        return picked_code(self._value("province"), self._value("city"), self._value("county")) or (
            self._value("region") or None
        )

    def _add_stay_fields(self) -> None:
        if "stay" in self.needs:
            f = self.fields
            f["admitted_on"] = forms.DateField(label=_("入院日期"), widget=DATE_WIDGET)
            f["discharged_on"] = forms.DateField(
                label=_("出院日期（已出院或已确定时填写）"), widget=DATE_WIDGET, required=False
            )
            f["day_surgery"] = forms.BooleanField(label=_("日间手术"), required=False)

    def _add_diagnosis_fields(self) -> None:
        if "diagnosis" in self.needs:
            f = self.fields
            f["disease"] = forms.CharField(
                label=_("疾病名称"),
                max_length=120,
                widget=DatalistInput(disease_options(self.terms), DISEASE_LIST_ID),
                help_text=_("可从列表中选择，也可输入诊断书上的疾病名称（如：肺癌）"),
            )
            f["confirmed"] = forms.TypedChoiceField(
                label=_("诊断情况"),
                choices=[("1", _("已确诊")), ("0", _("疑似"))],
                coerce=lambda v: v == "1",
            )
            f["diagnosed_on"] = forms.DateField(label=_("诊断日期"), widget=DATE_WIDGET)

    def _add_amount_fields(self) -> None:
        quota = self.terms.quota
        if quota.unit in ("days", "cny"):
            label = _("申请天数") if quota.unit == "days" else _("申请金额（元）")
            self.fields["amount"] = forms.DecimalField(
                label=label, min_value=Decimal("0.01"), max_digits=10, decimal_places=2
            )
        per_use = quota.max_per_use
        bounded_in_days = any(limit.kind == "consecutive_days" for limit in quota.limits) or (
            per_use is not None and per_use.unit in ("days", "weeks")
        )
        if bounded_in_days and quota.unit != "days":
            # 7天住院陪护 "最多连续7天": the days asked for are checked against the bound.
            self.fields["days"] = forms.IntegerField(
                label=_("需要的天数"), min_value=1, max_value=366, required=False
            )
        if quota.category_caps:
            self.fields["category"] = forms.ChoiceField(
                label=_("类别"),
                choices=[(c.category, c.label) for c in quota.category_caps],
            )

    def _add_conditions_field(self) -> None:
        unsuitable = [r for r in self.terms.rules if isinstance(r, UnsuitableConditionRule)]
        if unsuitable:
            self.fields["conditions"] = forms.MultipleChoiceField(
                label=_("以下情况不在服务范围内，如有请勾选"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[(c.code, c.label) for r in unsuitable for c in r.conditions],
            )

    def _add_document_fields(self) -> None:
        for document in self.terms.documents:
            self.fields[f"doc_{document.code}"] = forms.FileField(
                label=document.label + (f"（{document.when}）" if document.when else ""),
                required=False,
                help_text=_("PDF、JPG、PNG 或 HEIC，单个不超过%(mb)dMB；也可提交后再补充")
                % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
            )

    def clean_region(self) -> str:
        """The region's code, from the place typed (read inside the province chosen, so
        朝阳区 with 北京 is 北京市朝阳区) or else the deepest place chosen: a place the
        resolver cannot read is this field's error, in the policyholder's words, with the
        places it could mean."""
        text = self.cleaned_data.get("region", "").strip()
        province, city, county = (
            self.cleaned_data.get(k, "") for k in ("province", "city", "county")
        )
        if not text:
            return picked_code(province, city, county)
        code = typed_place_code(text, province)
        if code is None:
            raise forms.ValidationError(place_problem(text)[0], code="invalid_region")
        return code

    def clean(self):
        data = super().clean()
        if getattr(self, "region_required", None) and not data.get("region"):
            if "region" not in self.errors:
                self.add_error("region", self.region_required)
        admitted, discharged = data.get("admitted_on"), data.get("discharged_on")
        if admitted and discharged and discharged < admitted:
            self.add_error("discharged_on", _("出院日期不能早于入院日期"))
        return data

    def document_fields(self) -> list[tuple[str, UploadedFile | None]]:
        return [(name[4:], self.files.get(name)) for name in self.fields if name.startswith("doc_")]

    def to_input(
        self, *, policy, family_by_pk: dict[int, PolicyMember], at: datetime
    ) -> RequestInput:
        data = self.cleaned_data
        recipient_pk = data.get("recipient")
        recipient = family_by_pk.get(recipient_pk) if recipient_pk else None
        if recipient is not None and recipient.pk == self.member.pk:
            recipient = None
        stay = None
        if data.get("admitted_on"):
            stay = StayInput(
                admitted_on=data["admitted_on"],
                discharged_on=data.get("discharged_on"),
                day_surgery=bool(data.get("day_surgery")),
                region=data.get("region") or None,
                surgery=data.get("surgery"),
            )
        diagnosis = None
        if data.get("diagnosed_on"):
            diagnosis = DiagnosisInput(
                confirmed=bool(data.get("confirmed")),
                diagnosed_on=data["diagnosed_on"],
                disease=data.get("disease") or None,
            )
        return RequestInput(
            policy=policy,
            member=self.member,
            benefit=self.benefit,
            at=at,
            recipient=recipient,
            planned_at=data.get("planned_at"),
            stay=stay,
            diagnosis=diagnosis,
            region=data.get("region") or None,
            hospital=data.get("hospital", ""),
            amount=data.get("amount"),
            category=data.get("category"),
            option=data.get("option", ""),
            note=data.get("note", ""),
            conditions=frozenset(data.get("conditions") or ()),
            site=data.get("site") or None,
            days=Decimal(data["days"]) if data.get("days") else None,
            variant=data.get("variant") or None,
            item=data.get("item") or None,
            submission_key=data["submission_key"],
            records_consent_given=bool(data.get("records_consent")),
        )
