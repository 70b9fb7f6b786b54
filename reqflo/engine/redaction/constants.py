"""The redactor's marks and thresholds, shared by the engine's other modules."""

from __future__ import annotations

REDACTED = "•••••"
CUT_MARK = "…"
# The shortest secret whose spellings (escapes, encodings, cuts) are searched for; a shorter
# one is masked only where it stands as written (any letter case).
MIN_SPELLED_CHARS = 4
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)
