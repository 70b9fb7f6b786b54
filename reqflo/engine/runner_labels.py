"""What a runner label may be: the one rule the server (``reqflo.runners.labels``) and the
``reqflo runner start`` command both check, so a bad ``--labels`` is refused before it starts."""

from __future__ import annotations

import re

LABEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
MAX_LABELS = 20


def label_problem(raw: str) -> str | None:
    """Return why ``raw`` (case folded, trimmed) is not a label, or None when it is one."""
    if LABEL.match(raw.strip().lower()):
        return None
    return (
        f"Label “{raw.strip()[:60]}” may use only letters, digits, '.', '_' and '-' (at most 40, "
        "starting with a letter or digit), e.g. staging or eu-vpn."
    )
