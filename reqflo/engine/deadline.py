"""A wall-clock deadline for one whole HTTP exchange: connect, send, headers, body, redirects.

httpx's timeouts bound each socket operation, not the request: a target that sends one header
line every half second never trips a 3 s read timeout and keeps a step alive for as long as it
likes. The engine therefore wraps the network backend of every client it runs with: each
connect, read and write gets the smaller of its own timeout and the time left until the deadline
of the exchange in progress (a context variable, so threads and runs never share one). When no
time is left the operation fails at once with httpx's own timeout error.

Name resolution happens inside the system resolver and is bounded by its own timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_deadline: ContextVar[float | None] = ContextVar("reqflo_exchange_deadline", default=None)


class exchange_deadline:  # named as the function it was (a context manager)
    """Bound every network operation inside the block by `at` (a `time.monotonic()` value).

    A class rather than a generator: entered once per request, `contextlib`'s generator
    machinery cost more than the context variable itself.
    """

    __slots__ = ("_at", "_token")

    def __init__(self, at: float) -> None:
        self._at = at

    def __enter__(self) -> None:
        self._token = _deadline.set(self._at)

    def __exit__(self, *exc_info: object) -> None:
        _deadline.reset(self._token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the exchange's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose every operation ends by the current exchange's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, _bounded(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def enforce_deadlines(client: httpx.Client | httpx.BaseTransport) -> None:
    """Make every transport of `client` that talks to a network honour exchange deadlines.

    Works on httpx's own `HTTPTransport` and its subclasses (the cloud worker's egress
    transport), also inside a wrapper that keeps its transport as `_transport` (the CLI's shared
    pool); a transport without a connection pool (an in-memory test transport) has no sockets
    to bound and is left as it is. Calling it twice is harmless.
    """
    if isinstance(client, httpx.Client):
        transports = [client._transport, *client._mounts.values()]
    else:
        transports = [client]
    for transport in transports:
        for _ in range(4):  # wrappers around wrappers, not a chain without end
            pool = getattr(transport, "_pool", None)
            backend = getattr(pool, "_network_backend", None)
            if backend is not None and not isinstance(backend, DeadlineBackend):
                pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
            transport = getattr(transport, "_transport", None)
            if transport is None:
                break
