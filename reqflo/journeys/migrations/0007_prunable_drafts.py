"""Draft build artifacts (no version: what an editor Send ran) may be deleted; nothing else.

0002 made build artifacts reject every UPDATE and DELETE. A draft is pruned with its send
(``reqflo.runners.sends.sends_prune``, issue 15); an artifact of a version stays write-once and
undeletable, and a draft a run still names cannot go either (the run's foreign key).

On SQLite (the embedded default) it also restores the UPDATE trigger, which 0006's rebuild of
the table had dropped (``tests/runs/test_immutability_sqlite.py`` checks both after every
migration).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "journeys_buildartifact"

FORWARD = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};",
        f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION journeys_reject_change();",
        f"CREATE TRIGGER {TABLE}_versioned_no_delete BEFORE DELETE ON {TABLE} "
        "FOR EACH ROW WHEN (OLD.version_id IS NOT NULL) "
        "EXECUTE FUNCTION journeys_reject_change();",
    ],
    # SQLite lost both of 0002's triggers when 0006 rebuilt the table (a nullable column): the
    # UPDATE one comes back here too.
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {TABLE}_no_update;",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
        f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are immutable: UPDATE is not allowed'); END;",
        f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
        "WHEN OLD.version_id IS NOT NULL "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are immutable: DELETE is not allowed'); END;",
    ],
}

BACKWARD = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TABLE}_versioned_no_delete ON {TABLE};",
        f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};",
        f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION journeys_reject_change();",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
        f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are immutable: DELETE is not allowed'); END;",
    ],  # the UPDATE trigger stays (0006 had lost it)
}


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"no immutability trigger for database vendor {vendor!r}")
    for statement in statements[vendor]:
        schema_editor.execute(statement, params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, FORWARD)


def backward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("journeys", "0006_draft_artifacts")]

    operations = [migrations.RunPython(forward, backward)]
