"""The insurer's request queue in admin: filters, actions through the lifecycle, history and
records of each request (opened only through a logged view)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from benefits.catalogue.vendors import vendors_assignable_to_all
from benefits.models import Vendor
from benefits.quota.ledger import Actor
from bookings.documents.services import document_open
from bookings.lifecycle.admin_desk import (
    RequestDeskMixin,
    actor_text,
    context_lines,
    member_text,
)
from bookings.lifecycle.cancellation import CAUSES, EVENT_CAUSES
from bookings.lifecycle.exports import FORMATS as EXPORT_FORMATS
from bookings.lifecycle.exports import requests_export
from bookings.lifecycle.services import request_transition
from bookings.models import (
    OPEN_STATUSES,
    Document,
    Milestone,
    Rating,
    RecordsConsent,
    RequestEvent,
    ServiceRequest,
)
from portal.kernel.actor import staff_actor
from portal.kernel.errors import DomainError
from portal.kernel.identity import mask_phone
from portal.kernel.tenancy import (
    InsurerScopedAdmin,
    InsurerScopedInline,
    get_scoped_or_404,
    request_user,
)


def admin_actor(request: HttpRequest) -> Actor:
    # an admin page: the admin has required a staff login
    return staff_actor(request_user(request))


class DeadlineFilter(admin.SimpleListFilter):
    title = _("时效")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("breached", _("已超时")),
            ("today", _("今天到期")),
            ("24h", _("24小时内到期")),
            ("provisional", _("截止时间暂定")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        pending = Q(milestones__state=Milestone.State.PENDING)
        if self.value() == "breached":
            return queryset.filter(milestones__state=Milestone.State.BREACHED).distinct()
        if self.value() == "today":
            end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
            return queryset.filter(pending, milestones__due_at__lte=end).distinct()
        if self.value() == "24h":
            return queryset.filter(
                pending, milestones__due_at__lte=now + timedelta(hours=24)
            ).distinct()
        if self.value() == "provisional":
            return queryset.filter(pending, milestones__provisional=True).distinct()
        return queryset


class MyQueueFilter(admin.SimpleListFilter):
    """我的待办: the open requests the logged-in staff member works; 未分配: nobody's yet."""

    title = _("负责人")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("mine", _("我的待办")), ("unassigned", _("未分配"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee=request.user, status__in=OPEN_STATUSES)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
        return queryset


class HistoryInline(InsurerScopedInline, admin.TabularInline):
    """What happened to a request, shown and never edited: the history is the record."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(HistoryInline):
    model = RequestEvent
    fields = [
        "at",
        "event_shown",
        "from_status",
        "to_status",
        "actor_shown",
        "reason",
        "cause_shown",
        "consequence",
    ]

    @admin.display(description=_("事件"))
    def event_shown(self, obj: RequestEvent) -> str:
        return str(obj.label)

    @admin.display(description=_("操作方"))
    def actor_shown(self, obj: RequestEvent) -> str:
        return actor_text(obj.actor_label)

    @admin.display(description=_("原因类别"))
    def cause_shown(self, obj: RequestEvent) -> str:
        return obj.cause_label

    @admin.display(description=_("对权益的影响"))
    def consequence(self, obj: RequestEvent) -> str:
        return str(obj.data.get("consequence", ""))


class MilestoneInline(HistoryInline):
    model = Milestone
    fields = ["label", "state", "started_at", "due_at", "provisional", "met_at"]


class DocumentInline(HistoryInline):
    model = Document
    fields = ["open_link", "requirement", "content_type", "size", "flags", "uploaded_at"]

    @admin.display(description=_("文件"))
    def open_link(self, obj: Document) -> str:
        if obj.purged_at is not None:  # deleted after its retention period: nothing to open
            return format_html("{}（{}）", obj.display_name, _("保存期满已删除"))
        url = reverse("admin:bookings_document_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.display_name)


class RecordsConsentInline(HistoryInline):
    """The member's answers to the consent to provide this request's records to its vendor
    (PIPL art. 23): what was shown, when, through which channel, withdrawn when."""

    model = RecordsConsent
    fields = [
        "given",
        "answered_at",
        "channel",
        "read_out",
        "version",
        "recipients",
        "withdrawn_at",
    ]


class RatingInline(HistoryInline):
    """The policyholder's rating of the completed service (one per request)."""

    model = Rating
    fields = ["stars", "comment", "created_at"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因（将告知客户）"), max_length=300, widget=forms.Textarea)


class CancelForm(ReasonForm):
    cause = forms.ChoiceField(
        label=_("原因类别（决定权益返还还是视为已使用）"),
        choices=[(cause, CAUSES[cause]) for cause in EVENT_CAUSES["cancelled"]],
    )


class VendorForm(forms.Form):
    vendor = forms.ModelChoiceField(
        label=_("服务商"),
        queryset=Vendor.objects.none(),
        error_messages={
            "invalid_choice": _("该服务商不提供所选申请的权益服务，不能派单，请从列表中选择")
        },
    )

    def __init__(self, *args: Any, vendors: QuerySet[Vendor], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only vendors that deliver every selected request's benefit; request_transition
        # refuses any other (vendor_not_serving) whatever is posted.
        cast(forms.ModelChoiceField, self.fields["vendor"]).queryset = vendors  # declared above


@admin.register(ServiceRequest)
class ServiceRequestAdmin(RequestDeskMixin, InsurerScopedAdmin):
    change_form_template = "admin/bookings/servicerequest/change_form.html"
    change_list_template = "admin/bookings/servicerequest/change_list.html"
    list_display = [
        "ref",
        "benefit_name",
        "recipient_name",
        "status",
        "vendor",
        "assignee",
        "next_due",
        "created_local",
    ]
    list_filter = [
        MyQueueFilter,
        "status",
        DeadlineFilter,
        ("benefit__product", admin.RelatedOnlyFieldListFilter),
        ("benefit", admin.RelatedOnlyFieldListFilter),
        ("vendor", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["ref", "policy__number"]
    list_select_related = ["benefit", "vendor", "recipient__person", "assignee"]
    date_hierarchy = "created_at"
    # What the agent reads: names and masked phones, Chinese labels, no internal codes.
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "ref",
                    "status",
                    "assignee",
                    "benefit_name",
                    "option",
                    "policy_shown",
                    "member_shown",
                    "recipient_shown",
                    "quota_outcome",
                ]
            },
        ),
        (
            _("申请信息"),
            {
                "fields": [
                    "planned_at",
                    "hospital",
                    "region_name",
                    "context_shown",
                    "amount",
                    "note",
                ]
            },
        ),
        (
            _("服务安排"),
            {"fields": ["vendor", "scheduled_at", "place", "changes", "outcome_reason"]},
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [str(field) for _title, options in fieldsets for field in options["fields"]]
    inlines = [MilestoneInline, DocumentInline, RecordsConsentInline, EventInline, RatingInline]
    actions = ["approve", "ask_for_records", "reject", "assign_vendor", "cancel"]

    def has_add_permission(self, request):
        return False  # requests come from policyholders and the staff API

    def has_change_permission(self, request, obj=None):
        # The page of one request is read, never saved as a form: every change is a step of
        # the desk (buttons, assignment, notes, calls). Actions on the list still need it.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def get_object(self, request, object_id, from_field=None):
        # The change page asks twice (its desk, then Django's view): one read per request.
        cached = getattr(request, "_service_request", None)
        if cached is not None and str(cached.pk) == str(object_id) and from_field is None:
            return cached
        obj = super().get_object(request, object_id, from_field)
        request._service_request = obj
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            context.update(self.desk_context(request, obj))
            # Read-only as a form, worked through the desk: not "查看 服务申请".
            context.setdefault("title", _("处理服务申请"))
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description=_("服务城市"))
    def region_name(self, obj: ServiceRequest) -> str:
        return obj.region.name if obj.region else "—"

    @admin.display(description=_("保单"))
    def policy_shown(self, obj: ServiceRequest) -> str:
        return f"{obj.policy.number} · {obj.policy.product.name}"

    @admin.display(description=_("被保险人"))
    def member_shown(self, obj: ServiceRequest) -> str:
        return member_text(obj.member)

    @admin.display(description=_("服务对象"))
    def recipient_shown(self, obj: ServiceRequest) -> str:
        return member_text(obj.recipient)

    @admin.display(description=_("申请信息"))
    def context_shown(self, obj: ServiceRequest) -> str:
        if not obj.context:
            return "—"
        return format_html_join("", "<div>{}：{}</div>", context_lines(obj.context))

    def has_delete_permission(self, request, obj=None):
        return False  # the history is the record

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "policy__product",
                "member__person",
                "recipient__person",
                "benefit",
                "vendor",
                "region",
                "assignee",
            )
            .annotate(
                next_due_at=Min(
                    "milestones__due_at", filter=Q(milestones__state=Milestone.State.PENDING)
                )
            )
        )

    @admin.display(description=_("权益"), ordering="benefit__name")
    def benefit_name(self, obj: ServiceRequest) -> str:
        return obj.benefit.name

    @admin.display(description=_("服务对象"))
    def recipient_name(self, obj: ServiceRequest) -> str:
        person = obj.recipient.person
        return f"{person.name} {mask_phone(person.phone)}" if person.phone else person.name

    @admin.display(description=_("下一截止"), ordering="next_due_at")
    def next_due(self, obj: ServiceRequest) -> str:
        due = getattr(obj, "next_due_at", None)
        if due is None:
            return "—"
        local = timezone.localtime(due)
        late = due < timezone.now()
        text = f"{local:%m-%d %H:%M}"
        return format_html('<strong style="color:#b00">{}</strong>', text) if late else text

    @admin.display(description=_("提交时间"), ordering="created_at")
    def created_local(self, obj: ServiceRequest) -> str:
        return f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M}"

    # --- actions: each request moves through request_transition, or says why not ----------

    def _apply(self, request: HttpRequest, queryset: QuerySet, event: str, **data: Any) -> None:
        done, refused = 0, []
        reason = str(data.pop("reason", ""))
        for service_request in queryset:
            try:
                request_transition(
                    service_request, event, actor=admin_actor(request), reason=reason, **data
                )
                done += 1
            except DomainError as exc:
                refused.append(f"{service_request.ref}：{exc.message}")
        if done:
            self.message_user(request, _("已处理 %(n)d 条申请") % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def _with_form(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        form_class: type[forms.Form],
        title: str,
        action: str,
        apply,
    ) -> HttpResponse | None:
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            apply(form.cleaned_data)
            return None
        return TemplateResponse(
            request,
            "admin/bookings/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "queryset": queryset,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("审核通过"), permissions=["change"])
    def approve(self, request, queryset):
        self._apply(request, queryset, "approved")

    @admin.action(description=_("要求补充资料"), permissions=["change"])
    def ask_for_records(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ReasonForm,
            str(_("要求补充资料")),
            "ask_for_records",
            lambda data: self._apply(request, queryset, "records_requested", **data),
        )

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("bookings.assign_servicerequest")

    def has_reject_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("bookings.reject_servicerequest")

    @admin.action(description=_("审核不通过（需填写原因）"), permissions=["reject"])
    def reject(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ReasonForm,
            str(_("审核不通过")),
            "reject",
            lambda data: self._apply(request, queryset, "rejected", **data),
        )

    @admin.action(description=_("取消申请（需填写原因与原因类别）"), permissions=["change"])
    def cancel(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            CancelForm,
            str(_("取消申请")),
            "cancel",
            lambda data: self._apply(request, queryset, "cancelled", **data),
        )

    @admin.action(description=_("派单给服务商"), permissions=["assign"])
    def assign_vendor(self, request, queryset):
        vendors = vendors_assignable_to_all({r.benefit_id for r in queryset})
        if not vendors.exists():
            self.message_user(
                request,
                _("所选申请的权益没有共同的可派单服务商，请按权益分别选择申请后再派单"),
                messages.WARNING,
            )
            return None
        return self._with_form(
            request,
            queryset,
            partial(VendorForm, vendors=vendors),
            str(_("派单给服务商")),
            "assign_vendor",
            lambda data: self._apply(request, queryset, "assigned", vendor=data["vendor"]),
        )

    # --- records: opened only through a view that logs the access -------------------------

    def get_urls(self):
        return [
            *self.desk_urls(),
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_view),
                name="bookings_servicerequest_export",
            ),
            path(
                "document/<int:pk>/file/",
                self.admin_site.admin_view(self.document_file),
                name="bookings_document_file",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        """The queue as the list shows it (its filters, search and date drill-down applied)
        as a spreadsheet; masked unless the user may see identities (then logged)."""
        if file_format not in EXPORT_FORMATS:
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).queryset  # filtered in its __init__
        except IncorrectLookupParameters:
            # As the changelist does: back to the list without the filters it cannot read.
            changelist = reverse("admin:bookings_servicerequest_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
        content, content_type = requests_export(
            queryset, user=request_user(request), file_format=file_format
        )
        response = HttpResponse(content, content_type=content_type)
        name = f"服务申请_{timezone.localdate():%Y%m%d}.{file_format}"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response

    def document_file(self, request: HttpRequest, pk: int) -> FileResponse:
        if not request.user.has_perm("bookings.open_document"):
            raise PermissionDenied
        document = get_scoped_or_404(
            Document.objects.filter(purged_at__isnull=True), request.user, pk=pk
        )
        handle = document_open(
            document,
            actor=admin_actor(request),
            purpose="admin_view",
            ip=request.META.get("REMOTE_ADDR"),
        )
        # Flagged files (a PDF with JavaScript) are only ever downloaded, never rendered.
        inline = not document.flags and document.content_type != "image/heic"
        response = FileResponse(
            handle,
            content_type=document.content_type,
            as_attachment=not inline,
            filename=document.display_name,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response
