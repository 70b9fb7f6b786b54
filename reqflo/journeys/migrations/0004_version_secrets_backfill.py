"""Record the secret names of the versions saved before ``VersionSecret`` existed.

The engine reads each stored definition and reports the names it references, as the save
service does for new versions. A definition the engine no longer accepts records none: the
secrets pages then show that version as using no secret, as they did when it failed to parse.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import migrations

from reqflo.engine import DefinitionError, definition_from_data


def record_secret_names(apps: Any, schema_editor: Any) -> None:
    version_model = apps.get_model("journeys", "JourneyVersion")
    secret_model = apps.get_model("journeys", "VersionSecret")
    rows: list[Any] = []
    for version in version_model.objects.only("pk", "definition").iterator(chunk_size=500):
        try:
            definition = definition_from_data(json.loads(version.definition))
        except (DefinitionError, ValueError):
            continue
        rows.extend(
            secret_model(version_id=version.pk, name=name)
            for name in sorted(definition.secret_names())
            # A stored secret's name has at most 100 characters; a longer one is no use.
            if len(name) <= 100
        )
        if len(rows) >= 1000:
            secret_model.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    secret_model.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("journeys", "0003_version_secrets")]

    operations = [migrations.RunPython(record_secret_names, migrations.RunPython.noop)]
