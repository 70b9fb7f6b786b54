"""Alert deliveries are claimed one by one (``sending``) and carry a stable delivery id;
schedules keep their recent results and why they were paused; old ticks can be pruned."""

import uuid
from typing import Any

from django.db import migrations, models


def _give_keys(apps: Any, schema_editor: Any) -> None:
    AlertDelivery = apps.get_model("schedules", "AlertDelivery")
    for delivery in AlertDelivery.objects.filter(key__isnull=True).only("pk").iterator():
        AlertDelivery.objects.filter(pk=delivery.pk).update(key=uuid.uuid4())


def _fill_recent(apps: Any, schema_editor: Any) -> None:
    Schedule = apps.get_model("schedules", "Schedule")
    Tick = apps.get_model("schedules", "Tick")
    for schedule in Schedule.objects.all().only("pk").iterator():
        ticks = (
            Tick.objects.filter(schedule_id=schedule.pk, settled_at__isnull=False)
            .exclude(outcome="ignored")
            .order_by("-due_at")[:30]
        )
        recent = [
            {"at": t.due_at.isoformat(), "outcome": t.outcome, "ms": t.duration_ms}
            for t in reversed(list(ticks))
        ]
        Schedule.objects.filter(pk=schedule.pk).update(recent=recent)


class Migration(migrations.Migration):
    dependencies = [
        ("schedules", "0002_delivery_log_outlives_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertdelivery",
            name="key",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(_give_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alertdelivery",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="claim_token",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="enqueued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("delivered", "Delivered"),
                    ("failed", "Failed"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="schedule",
            name="recent",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(_fill_recent, migrations.RunPython.noop),
        migrations.AddField(
            model_name="schedule",
            name="paused_reason",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddIndex(
            model_name="tick",
            index=models.Index(fields=["due_at"], name="tick_due_at_prune"),
        ),
    ]
