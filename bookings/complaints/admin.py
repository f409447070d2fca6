"""Admin of complaints (客户投诉): staff record hotline complaints (add form), give them to a
colleague, reply to the complainant, extend the clock (30 days with the reason; 60 only
with the internal approval, by someone holding ``bookings.approve_extension_complaint``) and
close them with the outcome — each through ``bookings.complaints.services``. The report per
vendor and per benefit is at ``report/``. Scoped by tenancy like every admin page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from bookings.complaints import clock, services
from bookings.complaints.selectors import complaint_report
from bookings.models import Complaint
from portal.kernel.actor import staff_actor
from portal.kernel.errors import DomainError
from portal.kernel.tenancy import InsurerScopedAdmin, has_permission

EXTEND = "bookings.extend_complaint"
APPROVE = "bookings.approve_extension_complaint"


class ComplaintAddForm(forms.ModelForm):
    """A complaint taken on the hotline: the policy, the caller (its holder or one of its
    insured), optionally the request it is about, what they said."""

    class Meta:
        model = Complaint
        fields = ("policy", "person", "request", "vendor", "category", "description")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        policy, person, request = data.get("policy"), data.get("person"), data.get("request")
        if policy is not None and person is not None:
            on_policy = (
                policy.holder_id == person.pk or policy.members.filter(person=person).exists()
            )
            if not on_policy:
                self.add_error("person", _("投诉人须为该保单的投保人或被保险人"))
        if policy is not None and request is not None and request.policy_id != policy.pk:
            self.add_error("request", _("该服务申请不属于此保单"))
        return data


class ComplaintHandleForm(forms.ModelForm):
    """The change form: assignment is a field; each other step is one optional box, applied
    by its service when filled."""

    reply = forms.CharField(
        label=_("回复投诉人"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("投诉人在网上服务平台看到回复，并收到短信提醒"),
    )
    extend_reason = forms.CharField(
        label=_("延长至30日（情况复杂）：原因"), required=False, max_length=300
    )
    approve_reason = forms.CharField(
        label=_("再延长30日（情况特别复杂，经审批）：审批理由"), required=False, max_length=300
    )
    outcome_choice = forms.ChoiceField(
        label=_("办结：处理结果"),
        required=False,
        choices=[("", "---------"), *Complaint.Outcome.choices],
    )
    outcome_note = forms.CharField(
        label=_("办结：处理意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = Complaint
        fields = ("assignee",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            assignee = self.fields["assignee"]
            assert isinstance(assignee, forms.ModelChoiceField)
            assignee.queryset = services.assignable_staff(self.instance)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        now = timezone.now()
        steps = {
            "extend_reason": clock.COMPLEX_DAYS,
            "approve_reason": clock.APPROVED_DAYS,
        }
        for field, days in steps.items():
            if data.get(field):
                try:
                    services.check_extension(self.instance, to_days=days, at=now)
                except DomainError as exc:
                    self.add_error(field, exc.message)
        if bool(data.get("outcome_choice")) != bool((data.get("outcome_note") or "").strip()):
            self.add_error("outcome_note", _("办结须同时选择处理结果并填写处理意见"))
        return data


@admin.register(Complaint)
class ComplaintAdmin(InsurerScopedAdmin):
    list_display = (
        "ref",
        "received_at",
        "category",
        "channel",
        "benefit",
        "vendor",
        "status",
        "due_on",
        "time_limit_days",
        "assignee",
        "outcome",
    )
    list_filter = ("status", "category", "channel", "time_limit_days", "outcome", "vendor")
    list_select_related = ("benefit", "vendor", "assignee")
    search_fields = ("=ref", "=policy__number", "=request__ref")
    autocomplete_fields = ("policy", "person", "request", "vendor")
    date_hierarchy = "received_at"
    show_full_result_count = False
    readonly = (
        "ref",
        "policy",
        "person",
        "request",
        "benefit",
        "vendor",
        "category",
        "description",
        "channel",
        "received_at",
        "time_limit_days",
        "due_on",
        "extension_reason",
        "extended_at",
        "extended_by",
        "approval_reason",
        "approved_at",
        "approved_by",
        "status",
        "outcome",
        "outcome_text",
        "closed_at",
        "closed_by",
        "recorded_by",
        "warned_at",
        "breached_at",
        "replies_shown",
    )

    @admin.display(description=_("回复记录"))
    def replies_shown(self, obj: Complaint) -> str:
        rows = format_html_join(
            "",
            "<li>{} {}：{}</li>",
            (
                (
                    timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
                    r.author.get_username() if r.author else "",
                    r.body,
                )
                for r in obj.replies.select_related("author")
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != Complaint.Status.OPEN:
            return False  # closed with its outcome: read-only from then on
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a regulatory record: closed with its outcome, never deleted

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = ComplaintHandleForm if obj is not None else ComplaintAddForm
        if obj is not None:
            kwargs["fields"] = self._handle_fields(request, obj)
        return super().get_form(request, obj, change, **kwargs)

    def _handle_fields(self, request: HttpRequest, obj: Complaint) -> list[str]:
        if not self.has_change_permission(request, obj):
            return []
        fields = ["assignee", "reply"]
        if has_permission(request.user, EXTEND):
            fields.append("extend_reason")
        if has_permission(request.user, APPROVE):
            fields.append("approve_reason")
        return [*fields, "outcome_choice", "outcome_note"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ComplaintAddForm.Meta.fields})]
        return [
            (None, {"fields": self.readonly}),
            (_("处理"), {"fields": self._handle_fields(request, obj)}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Complaint, form: Any, change: bool) -> None:
        actor = staff_actor(request.user)
        if not change:
            created = services.complaint_file(
                policy=obj.policy,
                person=obj.person,
                request=obj.request,
                vendor=obj.vendor,
                category=obj.category,
                description=obj.description,
                channel=Complaint.Channel.HOTLINE,
                actor=actor,
            )
            obj.pk, obj.ref = created.pk, created.ref
            return
        self._handle(request, obj, form.cleaned_data, actor)

    def _handle(self, request: HttpRequest, obj: Complaint, data: dict, actor: Any) -> None:
        now = timezone.now()
        try:
            if "assignee" in form_changed(data, obj):
                services.complaint_assign(complaint=obj, assignee=data["assignee"])
            if data.get("reply"):
                services.complaint_reply(complaint=obj, body=data["reply"], author=actor)
            if data.get("extend_reason"):
                services.complaint_extend(
                    complaint=obj, reason=data["extend_reason"], actor=actor, at=now
                )
            if data.get("approve_reason"):
                if not has_permission(request.user, APPROVE):
                    raise PermissionDenied
                services.complaint_approve_extension(
                    complaint=obj, reason=data["approve_reason"], approver=actor, at=now
                )
            if data.get("outcome_choice"):
                services.complaint_close(
                    complaint=obj,
                    outcome=data["outcome_choice"],
                    text=data["outcome_note"],
                    actor=actor,
                    at=now,
                )
        except DomainError as exc:  # a concurrent change since the form was checked
            self.message_user(request, exc.message, messages.ERROR)

    # --- the report ---------------------------------------------------------------------

    def get_urls(self) -> list:
        report = self.admin_site.admin_view(self.report_view)
        return [path("report/", report, name="bookings_complaint_report"), *super().get_urls()]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = complaint_report(self.get_queryset(request), timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": _("投诉统计（按服务商、按权益）"),
            "opts": self.model._meta,
            "report": report,
        }
        return TemplateResponse(request, "admin/bookings/complaint_report.html", context)


def form_changed(data: dict, obj: Complaint) -> set[str]:
    """The model fields of the handling form whose value differs from the stored row."""
    if "assignee" not in data:
        return set()
    stored = Complaint.objects.filter(pk=obj.pk).values_list("assignee_id", flat=True).first()
    chosen = data.get("assignee")
    return {"assignee"} if (chosen.pk if chosen else None) != stored else set()
