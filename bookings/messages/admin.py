"""What we told policyholders, read-only."""

from __future__ import annotations

from django.contrib import admin

from bookings.models import (
    Notification,
)
from portal.kernel.tenancy import InsurerScopedAdmin


@admin.register(Notification)
class NotificationAdmin(InsurerScopedAdmin):
    list_display = ["created_at", "title", "request", "read_at"]
    list_select_related = ["request"]
    readonly_fields = ["person", "request", "title", "body", "created_at", "read_at"]

    def has_add_permission(self, request):
        return False
