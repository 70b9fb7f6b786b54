"""Mask secret values, and strings derived from them, everywhere evidence can reach.

Besides the raw value the redactor also masks the forms a value takes on the wire: URL-encoded
(query strings, form bodies) and JSON-escaped (request and response bodies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "•••••"
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")
# What an HTTP client leaves unescaped in a URL (RFC 3986 sub-delims, ':', '@', '/', '?').
_URL_SAFE = "!$&'()*+,;=:@/?"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)


class Redactor:
    """Replace every registered secret string with REDACTED; grows as secrets are captured."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._added: set[str] = set()
        # Longest first, so a secret containing another one is masked whole. Plain str.replace
        # instead of one compiled regex: every run has new secret values (tokens), and compiling
        # an alternation per run costs more than the requests it records.
        self._ordered: list[str] = []
        # For "does any secret occur?" only the values containing no other registered value
        # matter ("Bearer <token>" cannot occur without "<token>"): fewer substring searches.
        self._probes: tuple[str, ...] = ()
        self.version = 0
        self.add(*secrets)

    def add(self, *values: Any, derived: bool = False) -> None:
        """Register values (non-strings by their text form) and their wire encodings.

        `derived` marks strings built from already registered values ("Bearer <token>"): they
        cannot reveal anything new in evidence redacted earlier, so `version` stays the same.
        """
        before = len(self._values)
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if not text or text in self._added:
                continue
            self._added.add(text)
            if _PLAIN.fullmatch(text):
                # Letters, digits and -._~ look the same URL-encoded and JSON-escaped.
                self._values.add(text)
                continue
            self._values.update(
                v
                for v in (
                    text,
                    quote(text, safe=""),
                    quote(text, safe=_URL_SAFE),
                    quote_plus(text, safe=""),
                    json.dumps(text)[1:-1],
                    json.dumps(text, ensure_ascii=False)[1:-1],
                )
                if v
            )
        if len(self._values) != before:
            self._ordered = sorted(self._values, key=len, reverse=True)
            shortest_first = self._ordered[::-1]
            probes: list[str] = []
            for value in shortest_first:
                if not any(probe in value for probe in probes):
                    probes.append(value)
            self._probes = tuple(probes)
            if not derived:
                self.version += 1

    def __bool__(self) -> bool:
        return bool(self._ordered)

    def occurs_in(self, texts: Iterable[str]) -> bool:
        """Return whether any registered value appears in any of the texts."""
        probes = self._probes
        for text in texts:
            for probe in probes:
                if probe in text:
                    return True
        return False

    def redact(self, text: str) -> str:
        if not text:
            return text
        for value in self._ordered:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def redact_obj(self, obj: Any) -> Any:
        """Return a deep copy of plain data with every string (and mapping key) redacted."""
        if not self._ordered:
            return obj
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, Mapping):
            return {self.redact_obj(k): self.redact_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v) for v in obj]
        if (
            isinstance(obj, int | float)
            and not isinstance(obj, bool)
            and self.redact(str(obj)) != str(obj)
        ):
            return REDACTED
        return obj

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return headers with sensitive ones masked entirely and secrets masked in the rest."""
        return {
            name: REDACTED if name.lower() in SENSITIVE_HEADERS else self.redact(value)
            for name, value in headers.items()
        }
