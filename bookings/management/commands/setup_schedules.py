"""Create or update the periodic tasks in django-celery-beat (idempotent: run it on every
deploy; ``./dev up`` does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    description: str
    # Crontab minute and hour fields (wall clock, Shanghai), or an interval in minutes.
    minute: str | None = None
    every_minutes: int | None = None
    hour: str = "*"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("sla-scan", "bookings.tasks.scan_sla", "服务时效扫描：临期提醒与超时", minute="*/5"),
    Schedule("follow-ups", "bookings.tasks.send_follow_ups", "就诊前一日提醒与回访", minute="*/10"),
    # An interval rather than a crontab: retries are due at arbitrary seconds.
    # Tasks queued by web requests wait in the outbox while the broker is down
    # (portal.kernel.outbox); this sends them once it is back.
    Schedule("task-outbox", "portal.tasks.relay_outbox", "任务发件箱投递", every_minutes=1),
    Schedule(
        "vendor-webhooks", "bookings.tasks.deliver_webhooks", "服务商回调投递", every_minutes=1
    ),
    # Daily, after midnight in Shanghai: the sweep first, so a policy that ended yesterday
    # gets no new year; each is idempotent, so the order is a courtesy, not a requirement.
    Schedule(
        "policy-status",
        "bookings.tasks.sweep_policy_status",
        "保单状态：满期、失效与终止",
        minute="30",
        hour="0",
    ),
    Schedule(
        "policy-anniversaries",
        "benefits.tasks.run_anniversaries",
        "保单周年日：开通新保单年度额度",
        minute="40",
        hour="0",
    ),
    Schedule(
        "service-windows", "benefits.tasks.expire_windows", "服务时间窗到期", minute="50", hour="0"
    ),
    # At night, away from the working day's uploads and downloads.
    Schedule(
        "records-retention",
        "bookings.tasks.purge_expired_records",
        "病历资料保存期满删除",
        minute="10",
        hour="2",
    ),
)


class Command(BaseCommand):
    help = "Create or update the Celery beat schedules (SLA scan, follow-ups, webhooks)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for schedule in SCHEDULES:
            fields: dict[str, Any] = {"crontab": None, "interval": None}
            if schedule.minute is not None:
                fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=schedule.minute,
                    hour=schedule.hour,
                    day_of_week="*",
                    day_of_month="*",
                    month_of_year="*",
                    timezone=TIMEZONE,
                )
            else:
                fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=schedule.every_minutes, period=IntervalSchedule.MINUTES
                )
            task, created = PeriodicTask.objects.update_or_create(
                name=schedule.name,
                defaults={
                    **fields,
                    "task": schedule.task,
                    "description": schedule.description,
                    "enabled": True,
                },
            )
            verb = "created" if created else "updated"
            self.stdout.write(f"{verb} {task.name}: {task.task} ({task.schedule})")
