"""Policy.anniversary_md (month * 100 + day of the effective date) and the two indexes the
daily jobs read through: today's anniversaries among the policies in force, and the policies
in force whose term has ended. Existing rows are filled with one UPDATE."""

from django.db import migrations, models
from django.db.models.functions import ExtractDay, ExtractMonth


def fill_anniversary_md(apps, schema_editor):
    Policy = apps.get_model("benefits", "Policy")
    Policy.objects.update(
        anniversary_md=ExtractMonth("effective_on") * 100 + ExtractDay("effective_on")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0005_working_calendar"),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="anniversary_md",
            # 0 only while the column is added; the next step computes every row.
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="周年日（月日）"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_anniversary_md, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="policy",
            index=models.Index(fields=["anniversary_md", "status"], name="policy_anniversary"),
        ),
        migrations.AddIndex(
            model_name="policy",
            index=models.Index(fields=["status", "expires_on"], name="policy_status_expiry"),
        ),
    ]
