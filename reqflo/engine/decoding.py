"""Undo a response's Content-Encoding, and say so when the body ended early or does not decode.

httpx's own decoders flush whatever a compressed stream gave so far and call that the body: the
first half of a gzip stream arrives as a shorter body and nothing complains. The engine reads the
raw bytes and decodes them here instead, where the end of the stream is checked: a stream that
stops before its end marker is `incomplete_body`, data that does not decode is `invalid_body`.

Supported: gzip (several members in a row too), deflate (zlib or raw), identity, and br / zstd
when the brotli / zstandard package is installed (httpx advertises only what it can decode, so
servers do not send the others unasked). Output is produced in bounded pieces, so a small
"zip bomb" costs time (bounded by the step's deadline), not memory.
"""

from __future__ import annotations

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

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._start is not None:
            self._start += data
            if len(self._start) > _SNIFF:
                self._start = None
        while data:
            if self._inflater.eof:
                # The stream ended and more bytes came: the next gzip member, or garbage.
                if self.name != "gzip":
                    raise invalid(f"{len(data)} bytes follow the end of the deflate stream")
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
                raise invalid(f"it is not valid {self.name} data ({exc})") from None
            if out:
                self._start = None
                yield out
            data = (
                self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
            )

    def finish(self) -> None:
        if self._fed and not self._inflater.eof:
            raise incomplete(f"the {self.name} stream ended early")


class _Brotli(_Decoder):
    name = "br"

    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:
            import brotlicffi as brotli  # ImportError when neither: see _decoder
        self._inflater = brotli.Decompressor()
        self._error = getattr(brotli, "error", Exception)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = True
        try:
            out = self._inflater.process(data)
        except self._error as exc:
            raise invalid(f"it is not valid br data ({exc})") from None
        if out:
            yield out

    def finish(self) -> None:
        if self._fed and not self._inflater.is_finished():
            raise incomplete("the br stream ended early")


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
            raise invalid(f"it is not valid zstd data ({exc})") from None
        if out:
            yield out

    def finish(self) -> None:
        if self._fed and not getattr(self._inflater, "eof", True):
            raise incomplete("the zstd stream ended early")


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
