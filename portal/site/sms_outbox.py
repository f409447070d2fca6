"""The development SMS backend: every text stored as an ``SmsMessage`` row (the outbox, read
by superusers in admin) instead of being sent. Production names its provider's backend in
``SMS_BACKEND``."""

from portal.kernel.sms import OutgoingSms
from portal.models import SmsMessage


class OutboxBackend:
    def send(self, message: OutgoingSms) -> None:
        SmsMessage.objects.create(
            phone=message.phone, template=message.template_code, body=message.body
        )
