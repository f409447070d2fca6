"""The admin site: every page needs a permission, not only ``is_staff``."""

from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from portal.kernel.tenancy import permission_codes

# The staff user's own account, open without a role: logging out, changing the password.
OWN_ACCOUNT_VIEWS = frozenset({"logout", "password_change", "password_change_done"})


class PlatformAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        # A staff user without any permission gets 403 from every page, not a redirect, a
        # 404 for an object or a 405 that tells which URLs exist.
        checked = super().admin_view(view, cacheable)
        if getattr(view, "__self__", None) is self and view.__name__ in OWN_ACCOUNT_VIEWS:
            return checked

        def refuse_staff_without_a_role(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if user.is_active and user.is_staff and not user.is_superuser:
                if not permission_codes(user):
                    raise PermissionDenied
            return checked(request, *args, **kwargs)

        return update_wrapper(refuse_staff_without_a_role, checked)

    def index(self, request: HttpRequest, extra_context=None) -> TemplateResponse:
        # A staff user with no permission at all sees nothing here: say so with a 403 rather
        # than an empty page that looks like a broken installation.
        if not self.get_app_list(request):
            raise PermissionDenied
        return super().index(request, extra_context)

    def app_index(
        self, request: HttpRequest, app_label: str, extra_context=None
    ) -> TemplateResponse:
        if not self.get_app_list(request, app_label):
            raise PermissionDenied
        return super().app_index(request, app_label, extra_context)
