from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("服务申请")

    def ready(self) -> None:
        import bookings.sla.receivers  # noqa: F401 - SLA clocks, reminders, follow-ups
        from bookings.vendors import webhooks  # noqa: F401 - connects the vendor webhook receiver
