"""Let a store key rotation re-seal the checkpoints of unfinished runs.

``reqflo.runs.triggers`` now lets an UPDATE of a running run's step result change
``checkpoint`` (as well as ``evidence`` and ``digest``), so ``rotate_secrets_key`` can
re-encrypt it under the new store key (``reqflo.runs.resealing``); a finished run's results stay
unchangeable. Going back installs the triggers again as the module defines them then.
"""

from typing import Any

from django.db import migrations

from reqflo.runs.triggers import triggers_install


def install(apps: Any, schema_editor: Any) -> None:
    triggers_install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("runs", "0010_trigger_editor_send")]

    operations = [migrations.RunPython(install, install)]
