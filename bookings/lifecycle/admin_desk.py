"""A request's admin page as a desk: the lifecycle's next steps as buttons (each a small
form, ``bookings.lifecycle.desk``), who works it, internal notes and the call log, and the
people and codes shown as an agent reads them (names, masked phones, Chinese labels)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from benefits.models import PolicyMember
from bookings.idempotency import (
    IdempotencyKeyReused,
    KeyOwner,
    idempotent_call,
    new_key,
    request_fingerprint,
)
from bookings.lifecycle.casework import (
    assignable_staff,
    call_log_record,
    request_assignee_set,
    request_note_add,
)
from bookings.lifecycle.desk import (
    DESK_ACTIONS,
    REVIEW_PERMISSIONS,
    ReviewForm,
    desk_actions,
    desk_apply,
    desk_review,
    may_review,
)
from bookings.lifecycle.workflow import TransitionNotAllowed
from bookings.models import CallLog, ServiceRequest
from portal.kernel.actor import staff_actor
from portal.kernel.errors import DomainError
from portal.kernel.identity import mask_phone
from portal.kernel.tenancy import has_permission, request_user

ACTOR_KINDS = {"staff": _("员工"), "vendor": _("服务商"), "insurer": _("保险公司")}
ACTOR_NAMES = {
    "policyholder": _("客户本人"),
    "system": _("系统"),
    "import": _("批量导入"),
}


def actor_text(label: str) -> str:
    """An event's actor as people read it: 客户本人, 系统, 员工 zhang, 服务商 xyz."""
    if label in ACTOR_NAMES:
        return str(ACTOR_NAMES[label])
    kind, _sep, name = label.partition(":")
    if kind in ACTOR_KINDS and name:
        return f"{ACTOR_KINDS[kind]} {name}"
    return label


# The keys ``submission._context`` writes, as the agent reads them.
CONTEXT_LABELS = {
    "hospitalisation": _("住院"),
    "admitted_on": _("入院日期"),
    "discharged_on": _("出院日期"),
    "day_surgery": _("日间手术"),
    "ward": _("病区"),
    "region": _("地区"),
    "diagnosis": _("诊断"),
    "disease": _("疾病"),
    "confirmed": _("已确诊"),
    "diagnosed_on": _("确诊日期"),
    "category": _("类别"),
    "site": _("服务机构"),
    "days": _("天数"),
    "channel": _("渠道"),
}
CHANNEL_LABELS = {"hotline": _("客服热线"), "admin": _("管理后台"), "portal": _("客户门户")}


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if value in CHANNEL_LABELS:
        return str(CHANNEL_LABELS[value])
    return str(value)


def context_lines(context: dict[str, Any]) -> list[tuple[str, str]]:
    """What the policyholder told us (``ServiceRequest.context``) as label/value lines, nested
    parts prefixed by their group (住院·入院日期)."""
    lines: list[tuple[str, str]] = []
    for key, value in context.items():
        label = str(CONTEXT_LABELS.get(key, key))
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                inner_label = str(CONTEXT_LABELS.get(inner, inner))
                lines.append((f"{label}·{inner_label}", _value_text(inner_value)))
        else:
            lines.append((label, _value_text(value)))
    return lines


def member_text(member: PolicyMember) -> str:
    """王小明（本人）138****8000: a policy member without the policy/ref code."""
    person = member.person
    phone = mask_phone(person.phone) if person.phone else ""
    text = f"{person.name}（{member.get_relation_display()}）"
    return f"{text} {phone}" if phone else text


class AssigneeForm(forms.Form):
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("负责人"), queryset=None, required=False, empty_label=_("（无人负责）")
    )

    def __init__(self, *args: Any, request: ServiceRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_staff(request)  # type: ignore[attr-defined]


# Keys of the desk's forms, apart from the staff API's keys of the same user.
DESK_KEY_PREFIX = "desk:"
# What a submit carries besides what it asks for (left out of its fingerprint).
UNASKED_FIELDS = frozenset({"csrfmiddlewaretoken", "idempotency_key"})


def key_field() -> forms.CharField:
    """Every note and call form carries a one-time key (``bookings.idempotency``): a double
    submit, a reload or a resend of the same rendered form saves once."""
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


class NoteForm(forms.Form):
    idempotency_key = key_field()
    body = forms.CharField(
        label=_("内部备注（仅内部员工可见）"), max_length=2000, widget=forms.Textarea
    )


class CallForm(forms.ModelForm):
    idempotency_key = key_field()

    class Meta:
        model = CallLog
        fields = ["direction", "party", "called_at", "summary"]
        widgets = {
            "called_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_called_at(self) -> Any:
        called_at = self.cleaned_data["called_at"]
        if called_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("通话时间不能晚于现在"))
        return called_at


REVIEW_TITLE = _("记录审核结论")


class RequestDeskMixin:
    """For ``ServiceRequestAdmin`` (an ``InsurerScopedAdmin``): the desk's URLs and views."""

    admin_site: Any
    model: type[ServiceRequest]

    def desk_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/step/<str:event>/",
                view(self.step_view),
                name="bookings_servicerequest_step",
            ),
            path(
                "<path:object_id>/review/",
                view(self.review_view),
                name="bookings_servicerequest_review",
            ),
            path(
                "<path:object_id>/assignee/",
                view(self.assignee_view),
                name="bookings_servicerequest_assignee",
            ),
            path(
                "<path:object_id>/note/",
                view(self.note_view),
                name="bookings_servicerequest_note",
            ),
            path(
                "<path:object_id>/call/",
                view(self.call_view),
                name="bookings_servicerequest_call",
            ),
        ]

    # --- the change page ----------------------------------------------------------------

    def desk_context(self, request: HttpRequest, obj: ServiceRequest) -> dict[str, Any]:
        user = request_user(request)
        may_work = has_permission(user, "bookings.change_servicerequest")
        steps = [
            (action.label, self._url("step", obj, action.event))
            for action in desk_actions(obj, user)
        ]
        if may_review(obj, user):
            steps.insert(0, (REVIEW_TITLE, self._url("review", obj)))
        return {
            "desk_steps": steps,
            "may_work": may_work,
            "assignee_form": AssigneeForm(initial={"assignee": obj.assignee_id}, request=obj),
            "note_form": NoteForm(initial={"idempotency_key": new_key()}),
            "call_form": CallForm(initial=self._call_initial()),
            "notes": list(obj.notes.select_related("author")),
            "calls": list(obj.calls.select_related("staff")),
            "desk_urls": {name: self._url(name, obj) for name in ("assignee", "note", "call")},
        }

    @staticmethod
    def _call_initial() -> dict[str, Any]:
        return {"called_at": timezone.localtime(), "idempotency_key": new_key()}

    def _url(self, name: str, obj: ServiceRequest, *args: Any) -> str:
        return reverse(
            f"admin:bookings_servicerequest_{name}",
            args=[obj.pk, *args],
            current_app=self.admin_site.name,
        )

    def _worked_request(self, request: HttpRequest, object_id: str) -> ServiceRequest:
        """The request of the user's insurers (else 404) the user may act on (else 403)."""
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]  # scoped
        if obj is None:
            raise Http404
        if not has_permission(request_user(request), "bookings.change_servicerequest"):
            raise PermissionDenied
        return obj

    def _back(self, obj: ServiceRequest) -> HttpResponseRedirect:
        return HttpResponseRedirect(self._url("change", obj))

    def _form_page(
        self, request: HttpRequest, obj: ServiceRequest, form: forms.BaseForm, title: object
    ) -> TemplateResponse:
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/bookings/servicerequest/desk_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "form": form,
                "original": obj,
                "member_shown": member_text(obj.member),
                "opts": self.model._meta,
                "back_url": self._url("change", obj),
            },
        )

    # --- the views ----------------------------------------------------------------------

    def step_view(self, request: HttpRequest, object_id: str, event: str) -> HttpResponse:
        obj = self._worked_request(request, object_id)
        action = DESK_ACTIONS.get(event)
        if action is None:
            raise Http404
        if not has_permission(request.user, *action.permissions):
            raise PermissionDenied
        if action not in desk_actions(obj, request.user):
            messages.warning(request, TransitionNotAllowed(event, obj.status).message)
            return self._back(obj)
        form = action.make_form(obj, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                desk_apply(obj, event, form.cleaned_data, actor=staff_actor(request.user))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("已%(action)s") % {"action": action.label})
                return self._back(obj)
        return self._form_page(request, obj, form, action.label)

    def assignee_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._worked_request(request, object_id)
        data = request.POST if request.method == "POST" else None
        form = AssigneeForm(data, initial={"assignee": obj.assignee_id}, request=obj)
        if "take" in request.POST:  # 我来处理: the logged-in user takes it
            form = AssigneeForm({"assignee": request.user.pk}, request=obj)
        if data is not None and form.is_valid():
            try:
                request_assignee_set(request=obj, assignee=form.cleaned_data["assignee"])
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("负责人已更新"))
                return self._back(obj)
        return self._form_page(request, obj, form, _("分配负责人"))

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._worked_request(request, object_id)
        if not has_permission(request.user, *REVIEW_PERMISSIONS):
            raise PermissionDenied
        if not may_review(obj, request.user):
            messages.warning(request, gettext("本申请当前没有待记录结论的审核节点"))
            return self._back(obj)
        form = ReviewForm(request.POST if request.method == "POST" else None, request=obj)
        if request.method == "POST" and form.is_valid():
            try:
                desk_review(obj, form.cleaned_data, actor=staff_actor(request.user))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("审核结论已记录"))
                return self._back(obj)
        return self._form_page(request, obj, form, REVIEW_TITLE)

    def note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._worked_request(request, object_id)
        data = request.POST if request.method == "POST" else None
        form = NoteForm(data, initial={"idempotency_key": new_key()})
        if data is not None and form.is_valid():
            body = form.cleaned_data["body"]

            def add() -> tuple[int, dict[str, Any]]:
                note = request_note_add(request=obj, author=request.user, body=body)
                return 201, {"id": note.pk}

            done = self._save_once(request, obj, form, add, gettext("内部备注已保存"))
            if done is not None:
                return done
        return self._form_page(request, obj, form, _("添加内部备注"))

    def call_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._worked_request(request, object_id)
        posted = request.POST if request.method == "POST" else None
        form = CallForm(posted, initial=self._call_initial())
        if posted is not None and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in UNASKED_FIELDS}

            def record() -> tuple[int, dict[str, Any]]:
                call = call_log_record(request=obj, staff=request.user, **data)
                return 201, {"id": call.pk}

            done = self._save_once(request, obj, form, record, gettext("通话记录已保存"))
            if done is not None:
                return done
        return self._form_page(request, obj, form, _("记录通话"))

    def _save_once(
        self,
        request: HttpRequest,
        obj: ServiceRequest,
        form: forms.BaseForm,
        apply: Callable[[], tuple[int, dict[str, Any]]],
        done: str,
    ) -> HttpResponse | None:
        """Apply once per the form's key: back to the request's page (a replay says nothing
        was saved again), or None with the refusal on ``form`` and a fresh key in it."""
        payload = {k: v for k, v in request.POST.items() if k not in UNASKED_FIELDS}
        try:
            stored = idempotent_call(
                owner=KeyOwner(staff_user=request_user(request)),
                key=DESK_KEY_PREFIX + form.cleaned_data["idempotency_key"],
                fingerprint=request_fingerprint("POST", request.path, payload),
                apply=apply,
            )
        except IdempotencyKeyReused as exc:
            messages.error(request, exc.message)
            return self._back(obj)
        if stored.status >= 400:
            form.add_error(None, stored.body.get("message") or gettext("操作未能完成"))
            fresh = request.POST.copy()
            fresh["idempotency_key"] = new_key()  # the corrected submit is a new one
            form.data = fresh
            return None
        if stored.replayed:
            messages.info(request, gettext("该记录已保存过，未重复保存"))
        else:
            messages.success(request, done)
        return self._back(obj)
