"""Undo a response's Content-Encoding, and say so when the body ended early or does not decode.

httpx's own decoders flush whatever a compressed stream gave so far and call that the body: the
first half of a gzip stream arrives as a shorter body and nothing complains. The engine reads the
raw bytes and decodes them here instead, where the end of the stream is checked: a stream that
stops before its end marker is `incomplete_body`, data that does not decode is `invalid_body`.

Every codec says what went wrong in the same words, naming itself, never quoting bytes:
"the gzip stream ended early", "the br stream is corrupt (...)", "junk follows the end of the
deflate stream (12 bytes)" (the count where the codec tells where its stream ended: gzip and
deflate; brotli does not). Bytes after a gzip member are another member only if they start
with the gzip magic number; a lone first byte of it at the very end is a member that ended early.

Supported: gzip (several members in a row too), deflate (zlib or raw), identity, and br / zstd
when the brotli / zstandard package is installed (httpx advertises only what it can decode, so
servers do not send the others unasked). Output is produced in bounded pieces (br: with
brotli / brotlicffi 1.2 or later, which can stop mid-chunk), so a small "zip bomb" costs time
(bounded by the step's deadline), not memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from reqflo.engine.results import StepError

_PIECE = 1024 * 1024  # the most one decompression call may produce
_GZIP_MAGIC = b"\x1f\x8b"


class BodyError(Exception):
    """The body cannot be decoded; `error` is the StepError to record."""

    def __init__(self, error: StepError) -> None:
        super().__init__(error.message)
        self.error = error


def incomplete(reason: str) -> BodyError:
    return BodyError(StepError("incomplete_body", f"the response body is incomplete: {reason}"))


def invalid(reason: str) -> BodyError:
    return BodyError(StepError("invalid_body", f"the response body does not decode: {reason}"))


def ended_early(codec: str) -> BodyError:
    """The stream stopped before its end marker."""
    return incomplete(f"the {codec} stream ended early")


def corrupt(codec: str, why: str) -> BodyError:
    """The stream holds data its codec cannot decode; `why` is in words (no bytes, no repr)."""
    return invalid(f"the {codec} stream is corrupt ({why})")


def junk(codec: str, count: int | None) -> BodyError:
    """Bytes follow the end of the stream: `count` of them, or None when the codec cannot say."""
    size = "" if count is None else f" ({count} byte{'' if count == 1 else 's'})"
    return invalid(f"junk follows the end of the {codec} stream{size}")


# zlib says "Error -3 while decompressing data: incorrect header check": keep the words after it.
_ZLIB_PREFIX = re.compile(r"^Error -?\d+ while \w+ing data: ")


def _zlib_why(exc: zlib.error) -> str:
    return _ZLIB_PREFIX.sub("", str(exc)) or "invalid compressed data"


class _Decoder:
    name = "identity"

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def finish(self) -> None:
        """Raise BodyError when the stream stopped before its end."""


class _Undecodable(_Decoder):
    """An encoding this runner cannot undo: an error only if there is a body to decode."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            raise invalid(self._reason)
        yield from ()


# Raw deflate sent as "deflate" is told apart from zlib by the first bytes: they are kept (at
# most this many) until the stream produced output, to start again as raw deflate from them.
_SNIFF = 64 * 1024


class _Zlib(_Decoder):
    """gzip or deflate; `finish` raises when the stream has not reached its end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fed = False
        self._tried_raw = False
        self._start: bytearray | None = bytearray() if name == "deflate" else None
        self._wbits = zlib.MAX_WBITS | 16 if name == "gzip" else zlib.MAX_WBITS
        self._inflater: Any = zlib.decompressobj(self._wbits)
        self._held = b""  # gzip: a lone first byte of the magic after a member, so far
        self._junk: int | None = None  # bytes after the end that are no next member

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._junk is not None:
            self._junk += len(data)  # counted to the end, then `finish` raises
            return
        if self._start is not None:
            self._start += data
            if len(self._start) > _SNIFF:
                self._start = None
        while data:
            if self._inflater.eof:
                # The stream ended and more bytes came: the next gzip member, or junk.
                data, self._held = self._held + data, b""
                if self.name == "gzip" and data == _GZIP_MAGIC[:1]:
                    self._held = data  # the next chunk tells
                    return
                if self.name != "gzip" or data[:2] != _GZIP_MAGIC:
                    self._junk = len(data)
                    return
                self._inflater = zlib.decompressobj(self._wbits)
            self._fed = True
            try:
                out = self._inflater.decompress(data, _PIECE)
            except zlib.error as exc:
                if self._start is not None and not self._tried_raw:
                    # Many servers send raw deflate as "deflate": try that once, from the start
                    # (however the first bytes were split into chunks).
                    self._tried_raw = True
                    self._wbits = -zlib.MAX_WBITS
                    self._inflater = zlib.decompressobj(self._wbits)
                    data, self._start = bytes(self._start), None
                    continue
                raise corrupt(self.name, _zlib_why(exc)) from None
            if out:
                self._start = None
                yield out
            data = (
                self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
            )

    def finish(self) -> None:
        if self._junk is not None:
            raise junk(self.name, self._junk)
        if self._held or (self._fed and not self._inflater.eof):
            raise ended_early(self.name)


class _Brotli(_Decoder):
    """br; brotli reports trailing bytes without saying where its stream ended."""

    name = "br"

    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:
            import brotlicffi as brotli  # ImportError when neither: see _decoder
        self._inflater = brotli.Decompressor()
        self._error = getattr(brotli, "error", Exception)
        self._fed = False
        # brotlicffi >= 1.2 (and brotli >= 1.2) produce output in bounded pieces; older ones
        # all of a chunk's output at once.
        self._bounded = hasattr(self._inflater, "can_accept_more_data")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        if self._fed and self._inflater.is_finished():
            raise junk(self.name, None)
        self._fed = True
        while True:
            out = self._process(data)
            if out:
                yield out
            if not self._bounded or self._inflater.can_accept_more_data():
                return
            data = b""  # the rest of this chunk's output, one piece at a time

    def _process(self, data: bytes) -> bytes:
        try:
            if self._bounded:
                return bytes(self._inflater.process(data, output_buffer_limit=_PIECE))
            return bytes(self._inflater.process(data))
        except self._error as exc:
            # Its messages are bytes reprs of internal codes ("_ERROR_FORMAT_CL_SPACE").
            if "trailing data" in str(exc) or self._inflater.is_finished():
                raise junk(self.name, None) from None
            raise corrupt(self.name, "invalid compressed data") from None

    def finish(self) -> None:
        if self._fed and not self._inflater.is_finished():
            raise ended_early(self.name)


class _Zstd(_Decoder):
    name = "zstd"

    def __init__(self) -> None:
        import zstandard  # ImportError when absent: see _decoder

        self._inflater = zstandard.ZstdDecompressor().decompressobj()
        self._error = zstandard.ZstdError
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = True
        try:
            out = self._inflater.decompress(data)
        except self._error as exc:
            raise corrupt(self.name, str(exc) or "invalid compressed data") from None
        if out:
            yield out

    def finish(self) -> None:
        if self._fed and not getattr(self._inflater, "eof", True):
            raise ended_early(self.name)


def _decoder(name: str) -> _Decoder:
    if name in ("gzip", "x-gzip"):
        return _Zlib("gzip")
    if name == "deflate":
        return _Zlib("deflate")
    try:
        if name == "br":
            return _Brotli()
        if name == "zstd":
            return _Zstd()
    except ImportError:
        return _Undecodable(f"it is encoded as '{name}' and this runner has no {name} decoder")
    if name in ("identity", ""):
        return _Decoder()
    # An empty body (HEAD, 204, 304) has nothing to decode: only a body makes this an error.
    return _Undecodable(f"its Content-Encoding '{name}' is not one Reqflo can decode")


class ContentDecoder:
    """Decode raw body chunks through the response's Content-Encoding chain, in order."""

    def __init__(self, content_encoding: str | None) -> None:
        names = [n.strip().lower() for n in (content_encoding or "").split(",")]
        # Applied in the order listed, so undone in reverse.
        self._chain = [_decoder(n) for n in reversed(names) if n and n != "identity"]

    @property
    def identity(self) -> bool:
        return not self._chain

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded pieces of one raw chunk, one bounded piece at a time."""
        return self._through([data], 0)

    def _through(self, pieces: Iterable[bytes], start: int) -> Iterator[bytes]:
        if start == len(self._chain):
            yield from pieces
            return
        decoder = self._chain[start]
        yield from self._through(
            (out for piece in pieces for out in decoder.feed(piece)), start + 1
        )

    def finish(self) -> None:
        """Raise BodyError if a stream of the chain ended early (none holds output back)."""
        for decoder in self._chain:
            decoder.finish()
