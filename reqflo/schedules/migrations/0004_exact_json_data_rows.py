"""A schedule's data rows keep exact numbers (issue 13): a ``json`` column on PostgreSQL.

See ``reqflo.core.fields.ExactJSONField`` and runs' migration 0016.
"""

from __future__ import annotations

from django.db import migrations

import reqflo.core.fields
from reqflo.core.fields import to_exact_json_column


class Migration(migrations.Migration):
    dependencies = [("schedules", "0003_delivery_claims")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[to_exact_json_column("schedules_schedule", "data_rows")],
            state_operations=[
                migrations.AlterField(
                    model_name="schedule",
                    name="data_rows",
                    field=reqflo.core.fields.ExactJSONField(blank=True, null=True),
                ),
            ],
        )
    ]
