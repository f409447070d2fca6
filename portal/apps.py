from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("门户与接口")

    def ready(self) -> None:
        # Reference-data memos (portal.kernel.memo) are dropped whenever a watched model changes;
        # the staff access memos (portal.kernel.tenancy) whenever memberships or roles change.
        from portal.kernel import memo, tenancy
        from portal.pages import receivers
        from portal.site.audit import register_audited_models  # the change history (auditlog)
        from portal.site.roles import on_post_migrate

        memo.connect_signals()
        tenancy.connect_signals()
        # A person's phone changed (benefits.signals): end the old phone's portal bindings.
        receivers.connect_receivers()
        # The staff roles (groups) are rewritten from portal.site.roles after every migrate.
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="portal:roles")
        register_audited_models()


class PlatformAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: a staff user without any permission gets 403, not an
    empty index page."""

    default = False  # named in INSTALLED_APPS; "portal" itself is PortalConfig
    default_site = "portal.site.admin_site.PlatformAdminSite"
