from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("权益目录")

    def ready(self) -> None:
        # The calendar admin lives in its own module: benefits/admin.py is shared by others.
        from benefits.calendar import admin as calendar_admin  # noqa: F401
