"""curl commands (as browsers' "Copy as cURL" writes them) to one journey, a step per command.

Commands are split with `shlex` (POSIX shell rules); `$'...'` strings (Chrome's bash flavour)
are decoded first. Read: `-X`, `-H`, `-d`/`--data`/`--data-raw`/`--data-binary`/`--data-ascii`,
`--data-urlencode`, `-u`, `-b`, `-A`, `-e`, `-I`, `-G`, `--url`, `--json`; `--compressed`, `-L`,
`-s`, `-k` and other transport switches change nothing a journey states and are noted.
"""

from __future__ import annotations

import base64
import re
import shlex
from urllib.parse import quote, urlsplit

from reqflo.engine.imports.literal import LiteralRequest, build_journey
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import decode

_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii"}
_WITH_VALUE = {"-o", "--output", "-m", "--max-time", "--connect-timeout", "-x", "--proxy"}
_WITH_VALUE |= {"--retry", "-w", "--write-out", "-T", "--upload-file", "-F", "--form"}
_NOTED = {"--compressed", "-L", "--location", "-k", "--insecure", "-s", "--silent", "-S"}
_NOTED |= {"--show-error", "-v", "--verbose", "-i", "--include", "-f", "--fail", "-g", "--globoff"}
_NO_VALUE_LETTERS = set("sSLkvifgIG")


def import_curl(
    source: bytes | str, *, name: str = "Imported from curl", include_sensitive: bool = False
) -> ImportResult:
    """Convert one or several curl commands; raise SourceError when there is none."""
    text = decode(source, what="the curl input")
    commands = _commands(text)
    if not commands:
        raise SourceError("no curl command found: paste commands that start with 'curl'")
    result = ImportResult(kind="curl")
    requests = []
    for number, tokens in enumerate(commands, start=1):
        where = f"command {number}"
        try:
            requests.append(_request(tokens, where, result))
        except ValueError as exc:
            result.add(where, f"left out: {exc}")
    build_journey(
        requests, name=name, source="curl", result=result, include_sensitive=include_sensitive
    )
    return result


def _commands(text: str) -> list[list[str]]:
    text = re.sub(r"\\\r?\n", " ", text)  # line continuations
    text = re.sub(r"\^\r?\n", " ", text)  # cmd.exe continuations
    text = re.sub(r"\$'((?:\\.|[^'\\])*)'", lambda m: shlex.quote(_ansi_c(m.group(1))), text)
    try:
        tokens = shlex.split(text, comments=False)
    except ValueError as exc:
        raise SourceError(f"the curl input cannot be split into words: {exc}") from None
    commands: list[list[str]] = []
    for token in tokens:
        if token == "curl" or token.endswith("/curl"):
            commands.append([])
        elif commands:
            commands[-1].append(token)
        elif token.strip():
            raise SourceError(f"the input must start with 'curl', found '{token[:40]}'")
    return commands


def _ansi_c(body: str) -> str:
    """Decode the escapes of a bash `$'...'` string."""
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _request(tokens: list[str], where: str, result: ImportResult) -> LiteralRequest:
    method: str | None = None
    url: str | None = None
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    as_query = False
    credentials: list[str] = []
    tokens = _expand_short(tokens)
    index = 0

    def value() -> str:
        nonlocal index
        index += 1
        if index >= len(tokens):
            raise ValueError(f"option {tokens[index - 1]} needs a value")
        return tokens[index]

    while index < len(tokens):
        token = tokens[index]
        if token.startswith("-X") and len(token) > 2:
            method = token[2:].upper()
        elif token in ("-X", "--request"):
            method = value().upper()
        elif token in ("-H", "--header"):
            name, _, text = value().partition(":")
            headers.append((name.strip(), text.strip()))
        elif token in _DATA:
            data.append(value())
        elif token == "--data-urlencode":
            key, sep, text = value().partition("=")
            data.append(f"{key}={quote(text)}" if sep else quote(key))
        elif token == "--json":
            data.append(value())
            headers.append(("Content-Type", "application/json"))
        elif token in ("-u", "--user"):
            user = value()
            credentials.append(user)
            headers.append(("Authorization", f"Basic {base64.b64encode(user.encode()).decode()}"))
        elif token in ("-b", "--cookie"):
            headers.append(("Cookie", value()))
        elif token in ("-A", "--user-agent"):
            headers.append(("User-Agent", value()))
        elif token in ("-e", "--referer"):
            headers.append(("Referer", value()))
        elif token in ("-I", "--head"):
            method = "HEAD"
        elif token in ("-G", "--get"):
            as_query = True
        elif token == "--url":
            url = value()
        elif token in ("-F", "--form"):
            value()
            result.add(where, f"{token} (multipart form) is not supported; the field is left out")
        elif token in _NOTED:
            result.add(where, f"{token} changes nothing a journey states; ignored", "note")
        elif token in _WITH_VALUE:
            result.add(where, f"{token} {value()} is not imported", "note")
        elif token.startswith("-"):
            result.add(where, f"option {token} is not understood; ignored")
        elif url is None:
            url = token
        else:
            result.add(where, f"extra argument '{token[:40]}' ignored")
        index += 1
    if url is None:
        raise ValueError("no URL")
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"'{url[:60]}' is not an http(s) URL")
    body = "&".join(data) if data else None
    if body is not None and as_query:
        url += ("&" if "?" in url else "?") + body
        body = None
    if body is not None and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # as curl does
    method = method or ("POST" if body is not None else "GET")
    path = urlsplit(url).path or "/"
    return LiteralRequest(where, f"{method} {path}", method, url, headers, body, None, credentials)


def _expand_short(tokens: list[str]) -> list[str]:
    """Split grouped short switches such as `-sSL` into `-s -S -L`."""
    out: list[str] = []
    for token in tokens:
        if re.fullmatch(r"-[A-Za-z]{2,}", token) and set(token[1:]) <= _NO_VALUE_LETTERS:
            out.extend(f"-{letter}" for letter in token[1:])
        else:
            out.append(token)
    return out
