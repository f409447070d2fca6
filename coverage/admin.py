from django.contrib import admin

from coverage.models import CoverageList


@admin.register(CoverageList)
class CoverageListAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "kind", "insurer", "source", "scope", "printed")
    list_filter = ("kind", "insurer", "printed")
    list_select_related = ("insurer",)
    search_fields = ("code", "title")
    readonly_fields = ("code",)
