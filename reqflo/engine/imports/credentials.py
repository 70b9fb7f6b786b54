"""Find credentials in imported values by what they look like, and seal them behind secret names.

A credential reaches an import under any name: `X-Custom: ghp_…`, `?sig=…`, a body field, a
`postgres://user:pass@…` value, a URL's `user:password@`. Names catch some (`source.py`);
this module catches the rest by the value's shape:

- known token formats: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), Slack
  (`xoxb-`, `xoxp-` …), AWS access key ids (`AKIA`/`ASIA` + 16), JWTs (`eyJ….….…`), Stripe
  (`sk_live_`, `rk_live_` …), GitLab (`glpat-`), Google API keys (`AIza` + 35), `sk-` keys,
  PEM private keys;
- `user:password@` in any URL;
- long random words: 32 to 512 characters of letters and digits (with `+_-`, and `=` padding):
  hex with a Shannon entropy of at least 3.4 bits a character, or upper case, lower case and
  digits with at least 4.0; UUIDs are identifiers, not credentials.

`seal_document` runs over every journey an import builds (the builder calls it), so every
converter gets the same rule: a credential in a request becomes `{{ secrets.NAME }}`, one secret
per distinct value; a credential in a name or a description is masked. The report never quotes
one (`ImportResult.add` masks with `mask`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reqflo.engine.imports.report import ImportResult

MASK = "[credential]"
_KNOWN = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|glpat-[\w-]{20,}"
    r"|AIza[\w-]{35}"
    r"|(?<![\w-])sk-[A-Za-z0-9_-]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)
# `scheme://user:password@` (the password may be empty only when a user is given).
_USERINFO = re.compile(r"(?<=://)([^/\s:@{}]+:[^/\s@{}]*|[^/\s:@{}]+)@")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")
_WORD = re.compile(r"[A-Za-z0-9+_-]{32,512}={0,2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
# Keys of a JSON or form body that hold a credential when their value is a literal string. Narrow
# on purpose: a body's `author` or `session_count` is data, not a credential.
_BODY_KEY = re.compile(
    r"(?:password|passwd|pwd|passphrase|secret|client_?secret|api_?key|apikey|access_?key"
    r"|secret_?key|private_?key|(?:access|refresh|auth|id|bearer)?_?token)",
    re.IGNORECASE,
)


def _entropy(word: str) -> float:
    counts = Counter(word)
    return -sum(n / len(word) * math.log2(n / len(word)) for n in counts.values())


def _random_word(word: str) -> bool:
    """Hex with digits and letters, or upper case, lower case and digits, spread evenly."""
    word = word.rstrip("=")
    if _UUID.fullmatch(word) or not re.search(r"\d", word):
        return False
    if _HEX.fullmatch(word):
        return bool(re.search(r"[A-Fa-f]", word)) and _entropy(word) >= 3.4
    mixed = re.search(r"[a-z]", word) and re.search(r"[A-Z]", word)
    return bool(mixed) and _entropy(word) >= 4.0


def spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every credential in `text`, sorted, not overlapping;
    `{{ … }}` template expressions are never one."""
    templates = [m.span() for m in _TEMPLATE.finditer(text)]
    found: list[tuple[int, int]] = [m.span() for m in _KNOWN.finditer(text)]
    found += [m.span(1) for m in _USERINFO.finditer(text)]
    found += [m.span() for m in _WORD.finditer(text) if _random_word(m.group())]
    out: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if any(s < end and start < e for s, e in templates):
            continue
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def looks_like_credential_value(value: Any) -> bool:
    """Return whether a value is, or holds, something shaped like a credential."""
    return isinstance(value, str) and bool(spans(value))


def body_key_is_credential(key: str) -> bool:
    """Return whether a body field named `key` holds a credential (`password`, `api_key` …)."""
    return bool(_BODY_KEY.fullmatch(re.sub(r"[-\s.]", "_", key.strip())))


def mask(text: str) -> str:
    """Return `text` with every credential replaced by `[credential]` (for report lines)."""
    found = spans(text)
    for start, end in reversed(found):
        text = text[:start] + MASK + text[end:]
    return text


def strip_userinfo(url: str) -> tuple[str, str | None]:
    """Return `url` without `user:password@` and the userinfo taken out (None if none)."""
    found = _URL_USERINFO.match(url)
    if found is None:
        return url, None
    return found.group(1) + url[found.end() :], found.group(2)


class Sealer:
    """Replace credentials in one import's journeys with secret references, naming each
    distinct value once (`values` maps value → secret name, for masking the report)."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.values = result.credential_values

    def secret(self, value: str, hint: str, location: str) -> str:
        """Return the secret name standing for `value` (a new one the first time)."""
        from reqflo.engine.imports.source import reference_name  # source.py imports this module

        if value not in self.values:
            taken = {s.name for s in self.result.secrets} | set(self.values.values())
            base = reference_name(hint.lower()) if hint else "credential"
            name, number = base, 2
            while name in taken:
                name, number = f"{base}_{number}", number + 1
            self.values[value] = name
            self.result.add(
                location,
                f"a value that looks like a credential became secret '{name}'; store its value",
                "note",
            )
        name = self.values[value]
        self.result.add_secret(name, location=location, reason="a value shaped like a credential")
        return name

    def template(self, text: str, hint: str, location: str, *, whole: bool = False) -> str:
        """Return `text` with each credential (or all of it, `whole`) as a secret reference."""
        if whole and text and not _TEMPLATE.search(text):
            return "{{ secrets." + self.secret(text, hint, location) + " }}"
        for start, end in reversed(spans(text)):
            name = self.secret(text[start:end], hint, location)
            text = text[:start] + "{{ secrets." + name + " }}" + text[end:]
        return text

    def seal_step(self, step: dict[str, Any], location: str) -> None:
        """Seal one step's request in place; mask its name and description."""
        for key in ("name", "description"):
            if isinstance(step.get(key), str):
                step[key] = mask(step[key])
        request = step.get("request")
        if not isinstance(request, dict):
            return
        if isinstance(request.get("url"), str):
            url, userinfo = strip_userinfo(request["url"])
            if userinfo is not None:
                self.result.masked.add(userinfo)
                self.result.add(
                    location,
                    "the user and password in the URL were left out; send them as a header",
                )
            request["url"] = self.template(url, "url_credential", location)
        for part in ("headers", "query", "form"):
            fields = request.get(part)
            if isinstance(fields, dict):
                for key, value in fields.items():
                    where = f"{location} › {part[:-1] if part != 'query' else part} {key}"
                    fields[key] = self._field(value, str(key), where, part == "form")
        if isinstance(request.get("body"), str):
            request["body"] = self.template(request["body"], "body_credential", location)
        if "json" in request:
            request["json"] = self._json(request["json"], "body_credential", location)

    def _field(self, value: Any, key: str, where: str, body: bool) -> Any:
        if isinstance(value, list):
            return [self._field(item, key, where, body) for item in value]
        if not isinstance(value, str):
            return value
        whole = body and body_key_is_credential(key)
        return self.template(value, key, where, whole=whole)

    def _json(self, node: Any, hint: str, location: str) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    self.template(value, str(key), location, whole=True)
                    if isinstance(value, str) and body_key_is_credential(str(key))
                    else self._json(value, str(key), location)
                )
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self._json(item, hint, location) for item in node]
        return self.template(node, hint, location) if isinstance(node, str) else node
