from typing import Any

import tablib
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportMixin
from import_export.formats.base_formats import Format
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result, RowResult

from coverage.annex import HEADERS, AnnexFileError
from coverage.list_pages import TEMPLATE_FORMATS, import_template, kind_headers, list_rows
from coverage.models import (
    CoverageList,
    CoverageListMember,
    ListEntry,
    Region,
    RegionAlias,
    UnresolvedName,
)
from coverage.services import annex_import
from portal.kernel.tenancy import InsurerScopedAdmin, request_user, scope

STATUS_LABELS = {
    "ok": "正常",
    "alias": "别名改读",
    "historical": "历史名称",
    "duplicate": "重复",
    "unresolved": "无法识别",
    "heading": "分组标题",
    "total": "合计行",
}


class AnnexFileFormat(Format):
    """A CSV (UTF-8 or GBK) or XLSX annex; the bytes go to coverage.annex untouched, which
    sniffs the type from the content, not the name."""

    def __init__(self, encoding: str | None = None, **kwargs: Any):
        # The encoding is sniffed from the content (UTF-8, else GBK), never taken from here.
        super().__init__()

    def get_title(self) -> str:
        return "CSV / XLSX"

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def get_extension(self) -> str:
        return "csv"

    def can_import(self) -> bool:
        return True

    def can_export(self) -> bool:
        return False

    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        dataset = tablib.Dataset(headers=["bytes"])
        dataset.append([len(in_stream)])  # import-export refuses an empty dataset
        dataset.annex_bytes = in_stream
        return dataset


class AnnexResource(resources.Resource):
    """Runs the annex import service and turns its row report into import-export's
    preview: every row with its status, unresolved rows as errors (which stop the import)."""

    def __init__(self, coverage_list: CoverageList | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.coverage_list = coverage_list

    @classmethod
    def get_display_name(cls) -> str:
        return "附件名单"

    def get_user_visible_fields(self) -> list[Any]:
        return []  # the headers depend on the list's kind: shown on each list's page

    def import_data(self, dataset: tablib.Dataset, dry_run: bool = False, **kwargs: Any) -> Result:
        result = Result()
        result.diff_headers = ["行号", "状态", "原文", "区划代码", "标准名称", "说明"]
        if self.coverage_list is None:
            result.append_invalid_row(0, {}, ValidationError("请选择要导入的名单"))
            return result
        try:
            outcome = annex_import(
                coverage_list=self.coverage_list,
                content=getattr(dataset, "annex_bytes", b""),
                filename=kwargs.get("file_name") or "",
                dry_run=dry_run,
            )
        except AnnexFileError as exc:
            result.append_invalid_row(
                0, {"文件": kwargs.get("file_name") or ""}, ValidationError(str(exc))
            )
            return result
        for row in outcome.plan.rows:
            values = [
                row.line,
                STATUS_LABELS[row.status],
                row.input_name,
                row.region_code or "",
                row.canonical_name or "",
                row.message,
            ]
            if row.status == "unresolved":
                result.append_invalid_row(
                    row.line,
                    dict(zip(result.diff_headers, values, strict=True)),
                    ValidationError(row.message),
                )
                continue
            row_result = RowResult()
            row_result.diff = values
            row_result.import_type = (
                RowResult.IMPORT_TYPE_NEW
                if row.status in ("ok", "alias", "historical")
                else RowResult.IMPORT_TYPE_SKIP
            )
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        for discrepancy in outcome.plan.totals:
            row_result = RowResult()
            row_result.diff = ["", "合计不符", "", "", "", discrepancy]
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            result.append_row_result(row_result)
        result.annex_outcome = outcome
        return result


class AnnexImportForm(ImportForm):
    coverage_list = forms.ModelChoiceField(
        queryset=CoverageList.objects.order_by("code"), label=_("导入到名单"), required=True
    )
    field_order = ["coverage_list", "import_file", "format"]


class AnnexConfirmForm(ConfirmImportForm):
    coverage_list = forms.ModelChoiceField(
        queryset=CoverageList.objects.all(), widget=forms.HiddenInput()
    )


def _offer_own_lists(form: Any, request: HttpRequest) -> Any:
    """Only the lists of the user's insurers can be chosen (or posted) as the target."""
    field = form.fields.get("coverage_list")
    if field is not None:
        field.queryset = scope(field.queryset, request.user)
    return form


def template_links(kind: str) -> str:
    url = reverse("admin:coverage_coveragelist_import_template")
    return format_html_join(
        " ",
        '<a href="{}?kind={}&amp;format={}">{}</a>',
        (
            (url, kind, fmt, _("下载 %(format)s 模板") % {"format": fmt.upper()})
            for fmt in TEMPLATE_FORMATS
        ),
    )


@admin.register(CoverageList)
class CoverageListAdmin(ImportMixin, InsurerScopedAdmin):
    list_display = (
        "code",
        "title",
        "kind",
        "insurer",
        "source",
        "scope",
        "printed",
        "imported_at",
        "rows",
    )
    list_filter = ("kind", "insurer", "printed")
    list_select_related = ("insurer",)
    search_fields = ("code", "title")
    readonly_fields = ("code", "imported_at", "rows", "template")
    resource_classes = [AnnexResource]
    import_form_class = AnnexImportForm
    confirm_form_class = AnnexConfirmForm
    import_formats = [AnnexFileFormat]
    import_template_name = "admin/coverage/annex_import.html"
    change_form_template = "admin/coverage/coveragelist/change_form.html"

    def get_urls(self) -> list[Any]:
        template = path(
            "import-template/",
            self.admin_site.admin_view(self.import_template_view),
            name="coverage_coveragelist_import_template",
        )
        return [template, *super().get_urls()]

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        """The empty annex of a kind (``?kind=city&format=xlsx``), for whoever may import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        return import_template(
            request.GET.get("kind", CoverageList.Kind.CITY),
            request.GET.get("format", TEMPLATE_FORMATS[0]),
        )

    def import_action(self, request: HttpRequest, **kwargs: Any) -> Any:
        response = super().import_action(request, **kwargs)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            # The annex's headers depend on the list's kind: every kind with its headers
            # and its template, instead of the resource's (empty) field list.
            response.context_data["fields_list"] = kind_headers()
            response.context_data["template_links"] = [
                (label, template_links(kind)) for kind, label in CoverageList.Kind.choices
            ]
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CoverageList | None = None,
    ) -> Any:
        if obj is not None and obj.pk:
            context["list_rows"] = list_rows(
                obj, query=request.GET.get("q", ""), page=request.GET.get("p")
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def create_import_form(self, request: HttpRequest) -> Any:
        return _offer_own_lists(super().create_import_form(request), request)

    def create_confirm_form(self, request: HttpRequest, import_form: Any = None) -> Any:
        return _offer_own_lists(super().create_confirm_form(request, import_form), request)

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        chosen = (
            form.cleaned_data.get("coverage_list") if form is not None and form.is_bound else None
        )
        return {"coverage_list": chosen}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["coverage_list"] = import_form.cleaned_data["coverage_list"].pk
        return initial

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        form.add_error(
            "import_file", str(e) if isinstance(e, AnnexFileError) else _("无法读取文件")
        )

    def generate_log_entries(self, result: Result, request: HttpRequest) -> None:
        outcome = getattr(result, "annex_outcome", None)
        if outcome is None or outcome.result is None or not outcome.result.changed:
            return
        coverage_list = CoverageList.objects.get(code=outcome.plan.list_code)
        LogEntry.objects.log_actions(
            user_id=request_user(request).pk,
            queryset=[coverage_list],
            action_flag=CHANGE,
            change_message=f"导入附件：{outcome.result.message}",
            single_object=True,
        )

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        outcome = getattr(result, "annex_outcome", None)
        if outcome is not None and outcome.result is not None:
            level = messages.SUCCESS if outcome.result.applied else messages.ERROR
            messages.add_message(
                request, level, f"{outcome.plan.list_code}：{outcome.result.message}"
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[CoverageList]:
        from django.db.models import Count

        return (
            super()
            .get_queryset(request)
            .annotate(
                n_members=Count("members", distinct=True), n_entries=Count("entries", distinct=True)
            )
        )

    @admin.display(description=_("行数"))
    def rows(self, obj: CoverageList) -> str:
        # ``get_queryset``'s annotations; absent on an object loaded otherwise.
        members: int | None = getattr(obj, "n_members", None)
        entries: int | None = getattr(obj, "n_entries", None)
        if members is None or entries is None:
            members, entries = obj.members.count(), obj.entries.count()
        if obj.kind == CoverageList.Kind.CITY:
            url = (
                reverse("admin:coverage_coveragelistmember_changelist")
                + f"?coverage_list__id__exact={obj.pk}"
            )
        else:
            url = (
                reverse("admin:coverage_listentry_changelist")
                + f"?coverage_list__id__exact={obj.pk}"
            )
        return format_html('<a href="{}">{}</a>', url, members + entries)

    @admin.display(description=_("导入模板"))
    def template(self, obj: CoverageList) -> str:
        # A list being added has no kind yet (the add page used to answer 500).
        if obj.kind not in HEADERS:
            return "—"
        return format_html("{}（{}）", "，".join(HEADERS[obj.kind]), template_links(obj.kind))


@admin.register(CoverageListMember)
class CoverageListMemberAdmin(InsurerScopedAdmin):
    list_display = ("printed_name", "region", "county", "hospital_count", "coverage_list", "line")
    list_filter = ("coverage_list",)
    list_select_related = ("region", "county", "coverage_list")
    search_fields = ("printed_name", "region__name", "county__name", "region__code")
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from an import, which keeps lists consistent

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ListEntry)
class ListEntryAdmin(InsurerScopedAdmin):
    list_display = ("name", "code", "region", "coverage_list", "line")
    list_filter = ("coverage_list",)
    list_select_related = ("region", "coverage_list")
    search_fields = ("name", "code")
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(InsurerScopedAdmin):
    list_display = ("code", "name", "level", "parent", "longitude", "latitude")
    list_filter = ("level",)
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    readonly_fields = ("code", "name", "level", "parent", "province_code", "longitude", "latitude")
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the national dataset (and regions_supplement.csv)


@admin.register(RegionAlias)
class RegionAliasAdmin(InsurerScopedAdmin):
    list_display = ("alias", "region", "kind", "valid_from", "valid_to", "source")
    list_filter = ("kind",)
    list_select_related = ("region",)
    search_fields = ("alias", "region__name", "region__code")
    autocomplete_fields = ("region",)


@admin.register(UnresolvedName)
class UnresolvedNameAdmin(InsurerScopedAdmin):
    list_display = ("name", "province", "coverage_list", "last_seen_at", "resolved")
    list_filter = ("resolved", "coverage_list")
    list_select_related = ("coverage_list",)
    search_fields = ("name",)
    actions = ("mark_resolved",)
    readonly_fields = ("name", "province", "coverage_list", "first_seen_at", "last_seen_at")

    @admin.action(description=_("标记为已处理（已添加别名或已修改文件）"))
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[UnresolvedName]) -> None:
        count = queryset.update(resolved=True)
        self.message_user(request, f"已标记 {count} 条。", messages.SUCCESS)
