"""curl commands (as browsers' "Copy as cURL" writes them) to one journey, a step per request.

Commands are split with `shlex` (POSIX shell rules); `$'...'` strings (Chrome's bash flavour)
are decoded first. Each word is read as curl reads it, with the table of every curl option and
whether it takes an argument (`curl_options.py`): grouped switches (`-sSL`), a short option's
value attached or in the next word (`-XPOST`, `-X POST`), several URLs (one request each, as
curl makes them) and `-:`/`--next`. A word that is no curl option is reported and never takes
the next word as its value.

Read: `-X`, `-H`, `-d`/`--data`/`--data-raw`/`--data-binary`/`--data-ascii`, `--data-urlencode`,
`--json`, `-u`, `--oauth2-bearer`, `-b`, `-A`, `-e`, `-I`, `-G`, `--url`, `--url-query`, `-L`.
Anything that reads a file (`-d @file`, `-b file`, `-T`, `-K`, `-H @file`) is reported, never
read. Options that change only curl's output or transport are noted; every other option is
reported as not imported. An option's value is never quoted in the report: it may be a
password (`-E cert.pem:password`, `-U user:password`).
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from reqflo.engine.imports.credentials import spans
from reqflo.engine.imports.curl_options import (
    SHORT_FLAGS,
    SHORT_NAMES,
    SHORT_WITH_ARGUMENT,
    takes_argument,
)
from reqflo.engine.imports.literal import LiteralRequest, build_journey
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import decode

_DATA = {"data", "data-ascii", "data-binary"}
# Without a scheme curl takes any word for a host; a journey takes one that looks like a host:
# dotted (`api.test`), `localhost`, an IPv6 address in brackets, each with an optional port.
_HOST = re.compile(
    r"(?:[^/?#@\s]+@)?(?:[\w-]+(?:\.[\w-]+)+|localhost|\[[0-9A-Fa-f:.]+\])(?::\d+)?(?:[/?#]|$)"
)
# Options that change how curl prints or transports, never what the request states.
_OUTPUT_ONLY = {
    "compressed", "silent", "show-error", "verbose", "include", "fail", "fail-with-body",
    "globoff", "output", "remote-name", "remote-header-name", "dump-header", "write-out",
    "progress-bar", "no-progress-meter", "stderr", "trace", "trace-ascii", "trace-time",
    "trace-ids", "trace-config", "create-dirs", "output-dir", "remote-time", "no-buffer",
    "max-time", "connect-timeout", "retry", "retry-delay", "retry-max-time", "retry-all-errors",
    "retry-connrefused", "limit-rate", "speed-limit", "speed-time", "http1.1", "http2",
    "http2-prior-knowledge", "tcp-nodelay", "tcp-fastopen", "keepalive-time", "no-keepalive",
    "ipv4", "ipv6", "styled-output", "no-styled-output", "parallel", "parallel-max",
    "parallel-immediate", "libcurl", "raw", "path-as-is", "out-null", "skip-existing",
}  # fmt: skip
# Options that reach the network or the disk in a way a journey cannot state (reported).
_READS_FILE = {"config", "upload-file"}


@dataclass
class _Command:
    """What one curl command (or one `--next` part of it) asks for."""

    where: str
    method: str | None = None
    urls: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    query: list[str] = field(default_factory=list)
    as_query: bool = False
    follow: bool = False
    credentials: list[str] = field(default_factory=list)
    refused: str | None = None


def import_curl(
    source: bytes | str, *, name: str = "Imported from curl", include_sensitive: bool = False
) -> ImportResult:
    """Convert one or several curl commands; raise SourceError when the input is not curl."""
    text = decode(source, what="the curl input")
    commands = _commands(text)
    if not commands:
        raise SourceError("no curl command found: paste commands that start with 'curl'")
    result = ImportResult(kind="curl")
    requests: list[LiteralRequest] = []
    for number, tokens in enumerate(commands, start=1):
        for part, words in enumerate(_parts(tokens), start=1):
            where = f"command {number}" + (f" (part {part})" if part > 1 else "")
            try:
                requests.extend(_requests(_read(words, where, result), result))
            except ValueError as exc:
                result.add(where, f"left out: {exc}")
    build_journey(
        requests, name=name, source="curl", result=result, include_sensitive=include_sensitive
    )
    result.finish()
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
        if token in ("curl", "curl.exe") or token.endswith(("/curl", "\\curl.exe")):
            commands.append([])
        elif commands:
            commands[-1].append(token)
        elif token.strip():
            # Name the word only when it cannot be a credential: a short plain word.
            shown = f" '{token}'" if re.fullmatch(r"[A-Za-z][\w.-]{0,19}", token) else ""
            raise SourceError(
                f"this is not a curl command: the input must start with 'curl', found a "
                f"word{shown} before it"
            )
    return commands


def _ansi_c(body: str) -> str:
    """Decode the escapes of a bash `$'...'` string."""
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _parts(tokens: list[str]) -> list[list[str]]:
    """Split a command at `-:`/`--next`: each part is a request with its own options."""
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in ("-:", "--next"):
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part] or [[]]


def _options(tokens: list[str], where: str, result: ImportResult) -> list[tuple[str, str | None]]:
    """Return the command as (long option name or "" for a URL, value) in order."""
    out: list[tuple[str, str | None]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--") and len(token) > 2:
            name = token[2:]
            takes = takes_argument(name)
            if takes is None:
                result.add(where, f"option --{_shown(name)} is not a curl option; ignored")
            elif takes:
                if index >= len(tokens):
                    raise ValueError(f"option --{name} needs a value")
                out.append((name, tokens[index]))
                index += 1
            else:
                out.append((name, None))
        elif token.startswith("-") and len(token) > 1:
            for position, letter in enumerate(token[1:], start=1):
                if letter in SHORT_WITH_ARGUMENT:
                    value = token[position + 1 :]
                    if not value:
                        if index >= len(tokens):
                            raise ValueError(f"option -{letter} needs a value")
                        value = tokens[index]
                        index += 1
                    out.append((SHORT_NAMES[letter], value))
                    break
                if letter not in SHORT_FLAGS:
                    result.add(where, f"option -{_shown(letter)} is not a curl option; ignored")
                    break
                out.append((SHORT_NAMES[letter], None))
        else:
            out.append(("", token))
    return out


def _shown(name: str) -> str:
    """An unknown option as the report may quote it: a short plain name, else cut."""
    return name if re.fullmatch(r"[\w.#:-]{1,30}", name) else name[:3] + "…"


def _read(tokens: list[str], where: str, result: ImportResult) -> _Command:
    command = _Command(where)
    for name, value in _options(tokens, where, result):
        if value is None:
            _switch(name, command, result)
        elif not name or name == "url":
            command.urls.append(value)
        else:
            _with_value(name, value, command, result)
    return command


def _switch(name: str, command: _Command, result: ImportResult) -> None:
    where = command.where
    if name == "head":
        command.method = "HEAD"
    elif name == "get":
        command.as_query = True
    elif name in ("location", "follow"):
        command.follow = True
    elif name in _OUTPUT_ONLY or name.startswith("no-"):
        result.add(where, f"--{name} changes nothing a journey states; ignored", "note")
    elif name in ("insecure", "proxy-insecure"):
        result.add(where, f"--{name}: journeys always verify TLS certificates", "changed")
    else:
        result.add(where, f"option --{name} is not imported")


def _with_value(name: str, value: str, command: _Command, result: ImportResult) -> None:
    where = command.where
    if name == "request":
        command.method = value.upper()
    elif name == "header":
        if value.startswith("@"):
            result.add(where, "-H @FILE reads headers from a file; not imported (paste them)")
            return
        header, _, text = value.partition(":")
        command.headers.append((header.strip(), text.strip()))
    elif name in _DATA or name == "json":
        if value.startswith("@"):
            result.add(
                where,
                f"--{name} @FILE reads the body from a file; the body is left out "
                "(paste it with --data-raw)",
            )
            if command.method is None:
                command.method = "POST"
        else:
            command.data.append(value)
        if name == "json":
            command.headers.append(("Content-Type", "application/json"))
            command.headers.append(("Accept", "application/json"))
    elif name == "data-raw":
        command.data.append(value)
    elif name in ("data-urlencode", "url-query"):
        part = _urlencoded(value)
        if part is None:
            result.add(where, f"--{name} NAME@FILE reads a file; that field is left out")
            return
        (command.query if name == "url-query" else command.data).append(part)
    elif name == "user":
        command.credentials.append(value)
        encoded = base64.b64encode(value.encode()).decode()
        command.headers.append(("Authorization", f"Basic {encoded}"))
    elif name == "oauth2-bearer":
        command.credentials.append(value)
        command.headers.append(("Authorization", f"Bearer {value}"))
    elif name == "cookie":
        if "=" not in value:
            result.add(where, "-b FILE reads cookies from a file; not imported")
            return
        command.headers.append(("Cookie", value))
    elif name == "user-agent":
        command.headers.append(("User-Agent", value))
    elif name == "referer":
        command.headers.append(("Referer", value.removesuffix(";auto")))
    elif name in ("form", "form-string"):
        result.add(where, f"--{name} (multipart form) is not supported; the field is left out")
    elif name in _READS_FILE:
        flag = "-K" if name == "config" else "-T"
        command.refused = f"{flag} (--{name}) reads a file; commands that need it are not imported"
    elif name == "cookie-jar":
        result.add(where, "--cookie-jar: a journey keeps cookies between its steps itself", "note")
    elif name in _OUTPUT_ONLY:
        result.add(where, f"--{name} changes nothing a journey states; ignored", "note")
    elif name in ("resolve", "connect-to"):
        result.add(where, f"--{name}: a journey connects to the host its URL names; not imported")
    else:
        result.add(where, f"option --{name} (and its value) is not imported")


def _urlencoded(value: str) -> str | None:
    """Return `--data-urlencode` / `--url-query` text as curl sends it; None when it names a
    file. Forms: `content`, `=content`, `name=content`, `@file`, `name@file` (`+content`:
    `--url-query` sends it as it is)."""
    if value.startswith("+"):
        return value[1:]
    separator = re.search("[=@]", value)
    if separator is None:
        return quote(value, safe="")
    if separator.group() == "@":
        return None
    key, text = value[: separator.start()], value[separator.end() :]
    return f"{key}={quote(text, safe='')}" if key else quote(text, safe="")


def _requests(command: _Command, result: ImportResult) -> list[LiteralRequest]:
    if command.refused:
        raise ValueError(command.refused)
    if not command.urls:
        raise ValueError("no URL")
    out: list[LiteralRequest] = []
    for number, raw in enumerate(command.urls, start=1):
        where = command.where + (f" › URL {number}" if len(command.urls) > 1 else "")
        try:
            out.append(_literal(command, raw, where))
        except ValueError as exc:
            result.add(where, f"left out: {exc}")
    return out


def _literal(command: _Command, raw: str, where: str) -> LiteralRequest:
    if spans(raw.split("?", 1)[0].split("://", 1)[-1].split("/", 1)[0]):
        raise ValueError("an argument shaped like a credential is not taken for a URL")
    if "://" not in raw and not _HOST.match(raw):
        raise ValueError(
            "an argument that is not a URL (no scheme, and no dotted host name, localhost or "
            "address)"
        )
    url = raw if "://" in raw else "http://" + raw
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{parts.scheme}:// is not an http(s) URL")
    if not re.fullmatch(r"(?:[^@/\s]*@)?[A-Za-z0-9._~%!$&'()*+,;=:\[\]-]+", parts.netloc):
        raise ValueError("the argument is not a URL (no host name)")
    headers = list(command.headers)
    body = "&".join(command.data) if command.data else None
    query = list(command.query)
    if body is not None and command.as_query:
        query.append(body)
        body = None
    if query:
        url += ("&" if "?" in url else "?") + "&".join(query)
    if body is not None and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # as curl does
    method = command.method or ("POST" if body is not None else "GET")
    path = urlsplit(url).path or "/"
    return LiteralRequest(
        where,
        f"{method} {path}",
        method,
        url,
        headers,
        body,
        None,
        list(command.credentials),
        follow_redirects=command.follow,
    )
