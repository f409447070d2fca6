"""The change history in admin (变更记录): read only, in Chinese, and per insurer — a staff
user who is not a superuser sees the entries about their insurers' objects and the shared
reference data (``portal.site.audit.visible_entries``); another insurer's entry answers 404."""

from __future__ import annotations

import json
from typing import Any

from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.exceptions import FieldDoesNotExist
from django.db.models import JSONField, Model, QuerySet
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from portal.site.audit import visible_entries, visible_models

ACTION_LABELS = {
    LogEntry.Action.CREATE: _("新增"),
    LogEntry.Action.UPDATE: _("修改"),
    LogEntry.Action.DELETE: _("删除"),
    LogEntry.Action.ACCESS: _("查看"),
}
M2M_OPERATIONS = {"add": _("添加"), "delete": _("移除")}


class ActionFilter(admin.SimpleListFilter):
    title = _("操作")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        return list(ACTION_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() is not None else queryset


class AuditedModelFilter(admin.SimpleListFilter):
    """By kind of record; the choices are the audited models the user may read (no query
    over the log table, which grows without bound)."""

    title = _("对象类型")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        from django.contrib.contenttypes.models import ContentType

        models = visible_models(request.user)
        types = ContentType.objects.get_for_models(*models)
        return [(str(types[model].pk), model._meta.verbose_name_plural) for model in models]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(content_type_id=value) if value and value.isdigit() else queryset


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)  # auditlog's own: English, unscoped


@admin.register(LogEntry)
class ChangeHistoryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "resource", "action_label", "summary")
    list_filter = (AuditedModelFilter, ActionFilter)
    list_select_related = ("content_type", "actor")
    search_fields = ("object_repr",)
    fields = (
        "at",
        "actor_name",
        "resource",
        "action_label",
        "insurers",
        "changes_table",
        "client_address",
    )
    readonly_fields = fields
    ordering = ("-timestamp", "-id")
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[LogEntry]:
        return visible_entries(super().get_queryset(request), request.user)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404  # another insurer's entry: the same answer as no entry
        return found

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("时间"), ordering="timestamp")
    def at(self, entry: LogEntry) -> str:
        return f"{localtime(entry.timestamp):%Y-%m-%d %H:%M:%S}"

    @admin.display(description=_("操作人"))
    def actor_name(self, entry: LogEntry) -> str:
        return entry.actor.get_username() if entry.actor else str(_("系统"))

    @admin.display(description=_("对象"))
    def resource(self, entry: LogEntry) -> str:
        label = f"{entry.content_type.name}：{entry.object_repr}"
        app_label, model_name = entry.content_type.app_label, entry.content_type.model
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[quote(entry.object_pk)])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("操作"), ordering="action")
    def action_label(self, entry: LogEntry) -> str:
        return str(ACTION_LABELS.get(entry.action, entry.action))

    @admin.display(description=_("变更"))
    def summary(self, entry: LogEntry) -> str:
        if entry.action != LogEntry.Action.UPDATE:
            return ""
        model = entry.content_type.model_class()
        return "、".join(str(_verbose_name(model, name)) for name in entry.changes_dict)

    @admin.display(description=_("来源地址"))
    def client_address(self, entry: LogEntry) -> str:
        return entry.remote_addr or "—"

    @admin.display(description=_("所属保险公司"))
    def insurers(self, entry: LogEntry) -> str:
        from benefits.models import Insurer

        ids = list((entry.additional_data or {}).get("insurers", {}))
        names = Insurer.objects.filter(pk__in=ids).values_list("short_name", flat=True)
        return "、".join(names) or "—"

    @admin.display(description=_("变更"))
    def changes_table(self, entry: LogEntry) -> str:
        model = entry.content_type.model_class()
        changes = entry.changes_dict
        if not changes:
            return "—"
        shown = entry.changes_display_dict if model is not None else {}
        rows = []
        for name, values in sorted(changes.items()):
            label = _verbose_name(model, name)
            field = _field(model, name)
            if isinstance(values, dict) and values.get("type") == "m2m":
                code = values.get("operation")
                operation = M2M_OPERATIONS.get(code, code) if isinstance(code, str) else code
                objects = format_html_join("", "<div>{}</div>", ((o,) for o in values["objects"]))
                rows.append((label, operation, objects))
            elif isinstance(field, JSONField):
                rows.append((label, *(_pretty_json(value) for value in values)))
            else:
                before, after = shown.get(label, values)
                rows.append((label, before, after))
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th></tr>", _("字段"), _("原值"), _("新值")
        )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table>{}{}</table>", header, body)


def _field(model: type[Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _verbose_name(model: type[Model] | None, name: str) -> Any:
    return getattr(_field(model, name), "verbose_name", name)


def _pretty_json(value: Any) -> str:
    # auditlog stores JSON with \\u escapes on one line; terms read better whole and indented.
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return value
    text = json.dumps(parsed, ensure_ascii=False, indent=1, sort_keys=True)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)
