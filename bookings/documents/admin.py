"""The record access log (PIPL): who opened which record, read-only."""

from __future__ import annotations

from django.contrib import admin

from bookings.models import (
    DocumentAccess,
)
from portal.kernel.tenancy import InsurerScopedAdmin


@admin.register(DocumentAccess)
class DocumentAccessAdmin(InsurerScopedAdmin):
    list_display = ["at", "document", "actor_label", "purpose", "ip"]
    list_filter = ["purpose"]
    search_fields = ["actor_label", "document__request__ref"]
    list_select_related = ["document"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
