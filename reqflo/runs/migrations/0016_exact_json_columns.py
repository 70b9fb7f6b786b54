"""Run inputs and step evidence keep exact numbers (issue 13): ``json`` columns on PostgreSQL.

See ``reqflo.core.fields.ExactJSONField``. The state changes the field class; the database
changes only on PostgreSQL (``jsonb`` to ``json``), so SQLite's tables and triggers stay.
"""

from __future__ import annotations

from django.db import migrations

import reqflo.core.fields
from reqflo.core.fields import to_exact_json_column


class Migration(migrations.Migration):
    dependencies = [("runs", "0015_prunable_sends")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                to_exact_json_column("runs_run", "inputs"),
                to_exact_json_column("runs_stepresult", "evidence"),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name="inputs",
                    field=reqflo.core.fields.ExactJSONField(blank=True, default=dict),
                ),
                migrations.AlterField(
                    model_name="stepresult",
                    name="evidence",
                    field=reqflo.core.fields.ExactJSONField(),
                ),
            ],
        )
    ]
