from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("门户与接口")

    def ready(self) -> None:
        # Reference-data memos (portal.memo) are dropped whenever a watched model changes.
        from portal.memo import connect_signals

        connect_signals()
