"""Routes that misbehave the way real servers do, on the engine tests' loopback target.

The handler extends the shared one in `conftest.py` (same server class, same echo and JSON
routes) with what issue 13's kinds need: redirects that re-spell a query string, redirects to
another origin, bodies cut inside a compressed stream or a chunk, headers that arrive slowly.
Two servers run, so a redirect can cross to a second origin.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import brotlicffi
import pytest

from reqflo.engine import RunOptions, RunResult, compile_definition, load_definition, run_artifact
from reqflo.engine.inputs import merge_inputs
from tests.engine.conftest import Handler, QuietServer, TargetState

SLOW_CAP_SECONDS = 30.0


def _idna_label(label: str) -> str:
    if label.isascii():
        return label
    try:
        return label.encode("idna").decode()
    except UnicodeError:  # what IDNA 2003 refuses, Punycode still spells
        return "xn--" + label.encode("punycode").decode()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


DOCUMENT = json.dumps({"ok": True, "filler": "x" * 2000, "end": "found-me"}).encode()


def encoded_payload(name: str) -> tuple[bytes, str]:
    """DOCUMENT encoded as `name` says, and the Content-Encoding that announces it: gzip, gzip2
    (two members), deflate (zlib), raw-deflate, br, gzip-br (gzip, then br: `gzip, br`),
    bomb-br / bomb-gzip / bomb-deflate (BOMB_BYTES of zeros), identity."""
    if name == "gzip":
        return _gzip(DOCUMENT), "gzip"
    if name == "gzip2":  # two gzip members, one after the other: valid
        half = len(DOCUMENT) // 2
        return _gzip(DOCUMENT[:half]) + _gzip(DOCUMENT[half:]), "gzip"
    if name == "deflate":
        return zlib.compress(DOCUMENT), "deflate"
    if name == "raw-deflate":
        compressor = zlib.compressobj(wbits=-15)
        return compressor.compress(DOCUMENT) + compressor.flush(), "deflate"
    if name == "br":
        return brotlicffi.compress(DOCUMENT), "br"
    if name == "gzip-br":
        return brotlicffi.compress(_gzip(DOCUMENT)), "gzip, br"
    if name.startswith("bomb-"):  # 64 MiB of zeros in a few KB
        coding = name.removeprefix("bomb-")
        return bomb(coding), coding
    return DOCUMENT, "identity"


BOMB_BYTES = 64 * 1024 * 1024
BOMBS: dict[str, Any] = {
    "br": lambda data: brotlicffi.compress(data, quality=1),
    "gzip": lambda data: gzip.compress(data, compresslevel=1, mtime=0),
    "deflate": lambda data: zlib.compress(data, 1),
}


@functools.cache
def bomb(coding: str) -> bytes:
    """BOMB_BYTES of zeros in `coding`, made once (a test measuring memory makes it first)."""
    return bytes(BOMBS[coding](b"\0" * BOMB_BYTES))


class ExactnessHandler(Handler):
    other_base: str = ""

    # -- redirects that spell the query another way --------------------------------------------

    def route_bounce(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Redirect to /landing with the same query, its percent escapes in lower-case hex."""
        raw = urlsplit(self.path).query
        spelled = re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), raw)
        self._redirect(302, f"/landing?{spelled}")

    def route_respell(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Redirect with each value decoded and re-encoded leaving `\\ | ^ [ ] { }` as they are."""
        pairs = [p.split("=", 1) for p in urlsplit(self.path).query.split("&") if "=" in p]
        spelled = "&".join(f"{k}={quote(unquote(v), safe=chr(92) + '|^[]{}')}" for k, v in pairs)
        self._redirect(302, f"/landing?{spelled}")

    def route_unhex(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Answer the JSON document hex-encoded in `d`: a response whose values the request
        did not spell in any way a redactor decodes (for secret outputs)."""
        self._send(200, bytes.fromhex(query.get("d", "")))

    def route_mirror(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Echo the request line's path and query as sent, decoded, and as a form parser
        re-joins them (`k=v&k2=`), the Host header, and the body, as plain text."""
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        lines = [
            f"path: {parts.path}",
            f"path decoded: {unquote(parts.path)}",
            f"segments: {' | '.join(unquote(p) for p in parts.path.split('/'))}",
            f"query: {parts.query}",
            f"query decoded: {unquote(parts.query)}",
            f"query re-joined: {'&'.join(f'{k}={v}' for k, v in pairs)}",
            f"fragment-free: {self.path.split('#')[0]}",
            f"host: {self.headers.get('Host', '')}",
            f"body: {body.decode('utf-8', 'replace')}",
        ]
        self._send(200, "\n".join(lines), content_type="text/plain; charset=utf-8")

    def route_spell(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Answer the request body spelled as `as` says: a Unicode normal form (`NFC` ...),
        mojibake applied twice (`moji-latin-1~cp1252` ...), base64 wrapped as MIME (76) or PEM
        (64) does, at an offset (`b64wrap-76-1`), or as an IDNA host label (`idna`)."""
        how = query.get("as", "")
        text = body.decode("utf-8")
        if how in ("NFC", "NFD", "NFKC", "NFKD"):
            spelled = unicodedata.normalize(how, text)  # type: ignore[arg-type]
        elif how.startswith("moji-"):
            first, second = how[5:].split("~")
            spelled = text.encode().decode(first, "replace").encode().decode(second, "replace")
        elif how.startswith("b64wrap-"):
            width, offset = (int(n) for n in how[8:].split("-"))
            encoded = base64.b64encode(b"x" * offset + body + b" and more").decode()
            spelled = "\r\n".join(encoded[i : i + width] for i in range(0, len(encoded), width))
        elif how == "idna":
            spelled = ".".join(_idna_label(label) for label in text.lower().split("."))
        else:
            spelled = text
        self._send(200, f"spelled: {spelled}\n", content_type="text/plain; charset=utf-8")

    def route_landing(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.route_echo(rest, query, body)

    def route_away(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Redirect to the second origin's echo (307 keeps the method), or to our own."""
        base = self.other_base if query.get("to", "other") == "other" else ""
        self._redirect(int(query.get("status", "307")), f"{base}/echo")

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- bodies that end early or do not decode ------------------------------------------------

    def _raw(self, payload: bytes, *, encoding: str | None, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def route_encoded(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """A JSON document in `?enc=` (see `encoded_payload`), whole or damaged: `?cut=half`,
        `?cut=N` (the first N bytes; with `?short=1` the Content-Length still promises all of
        them and the connection closes), `?cut=garbage`, `?junk=HEX` (appended), `?flip=N:X`
        (byte N xor X)."""
        payload, encoding = encoded_payload(query.get("enc", "gzip"))
        cut = query.get("cut")
        whole = len(payload)
        if cut == "half":
            payload = payload[: len(payload) // 2]
        elif cut == "garbage":
            payload = payload[:10] + b"\x00garbage\xff" * 20
        elif cut is not None:
            payload = payload[: int(cut)]
        if "junk" in query:
            payload += bytes.fromhex(query["junk"])
        if "flip" in query:
            at, xor = (int(n) for n in query["flip"].split(":"))
            payload = payload[:at] + bytes([payload[at] ^ xor]) + payload[at + 1 :]
        if query.get("short"):  # promise the whole body, send the cut one, close
            self._raw(payload, encoding=encoding, length=whole)
            self.close_connection = True
            return
        if "status" in query:  # a status without a body (204, 304), announcing `?label=`
            self.send_response(int(query["status"]))
            self.send_header("Content-Encoding", query.get("label", encoding))
            self.end_headers()
            return
        if "split" in query:  # chunked, the first chunk `?split=` bytes long
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            split = int(query["split"])
            for part in (payload[:split], payload[split:]):
                if not part:
                    continue  # an empty chunk would end the body
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.01)  # so that the client reads the first chunk alone
            self.wfile.write(b"0\r\n\r\n")
            return
        label = query.get("label", None if encoding == "identity" else encoding)
        self._raw(payload, encoding=label)

    def route_chunked(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """A chunked body: whole, cut inside a chunk (`?cut=1`) or with a broken size line."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        first, second = b'{"ok": true, "filler": "', b'xxxx"}'
        if query.get("cut"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
            self.wfile.write(b"%x\r\n%s" % (100, second))  # promises 100 bytes, sends 6
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if query.get("bad"):
            self.wfile.write(b"%x\r\n%s\r\nzz\r\n" % (len(first), first))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        for part in (first, second):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    # -- slow targets --------------------------------------------------------------------------

    def route_slow_headers(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Send one header line every `every` seconds (`lines` of them), then a small body."""
        every, lines = float(query.get("every", "0.5")), int(query.get("lines", "40"))
        started = time.monotonic()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "11")
            self.flush_headers()
            for number in range(lines):
                if time.monotonic() - started > SLOW_CAP_SECONDS:
                    break
                time.sleep(every)
                self.wfile.write(f"X-Slow-{number}: {number}\r\n".encode())
                self.wfile.flush()
            self.wfile.write(b'\r\n{"ok": true}')
            self.wfile.flush()
        except OSError:
            pass  # the client gave up, as it should

    def route_slow_body(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Headers at once, then one body byte every `every` seconds."""
        every, size = float(query.get("every", "0.5")), int(query.get("bytes", "40"))
        started = time.monotonic()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            for _ in range(size):
                if time.monotonic() - started > SLOW_CAP_SECONDS:
                    break
                time.sleep(every)
                self.wfile.write(b"x")
                self.wfile.flush()
        except OSError:
            pass

    def route_slow_redirects(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Redirect to itself `n` times, each hop after `every` seconds, then answer."""
        hops, every = int(query.get("n", "10")), float(query.get("every", "0.5"))
        time.sleep(every)
        if hops > 0:
            self._redirect(302, f"/slow-redirects?n={hops - 1}&every={every}")
        else:
            self._send(200, {"ok": True})

    # -- numbers -------------------------------------------------------------------------------

    def route_numbers(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Big numbers in a header and as JSON text the stdlib would round through float."""
        text = (
            '{"big": 9007199254740993, "cents": 0.1000000000000000055511151231257827,'
            ' "text": "9007199254740993", "price": 19.99}'
        )
        self._send(200, text, headers=[("X-Big", "9007199254740993"), ("X-Price", "19.99")])

    # -- depth ---------------------------------------------------------------------------------

    def route_deep(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """`{"a": [[…]], "b": 1}` with `?depth=` levels of arrays."""
        depth = int(query.get("depth", "2000"))
        self._send(200, '{"a": ' + "[" * depth + "]" * depth + ', "b": 1}')


@dataclass
class Origin:
    base_url: str
    state: TargetState = field(repr=False)


@dataclass
class Targets:
    """Two loopback servers: `main`, and `other`, a second origin `main` can redirect to."""

    main: Origin
    other: Origin


def _serve(other_base: str, state: TargetState) -> tuple[QuietServer, str]:
    handler = type(
        "BoundExactnessHandler", (ExactnessHandler,), {"state": state, "other_base": other_base}
    )
    server = QuietServer(handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.url


@pytest.fixture(scope="session", name="targets")
def targets_fixture() -> Iterator[Targets]:
    """Import it into a test module (`import targets_fixture`) to use `targets`."""
    other_state, main_state = TargetState(), TargetState()
    # The second origin is "localhost", the first "127.0.0.1": different hosts, not only ports.
    other_server, other_base = _serve("", other_state)
    other_base = other_base.replace("127.0.0.1", "localhost")
    main_server, main_base = _serve(other_base, main_state)
    try:
        yield Targets(Origin(main_base, main_state), Origin(other_base, other_state))
    finally:
        for server in (main_server, other_server):
            server.shutdown()
            server.server_close()


def run_text(
    text: str,
    base_url: str,
    *,
    inputs: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    options: RunOptions | None = None,
    **kwargs: Any,
) -> RunResult:
    artifact = compile_definition(load_definition(text))
    return run_artifact(
        artifact,
        inputs=merge_inputs(artifact, overrides=inputs),
        environment={"base_url": base_url},
        secrets=secrets or {},
        options=options,
        **kwargs,
    )
