"""Client TLS contexts whose trusted CA certificates are loaded at their first handshake.

Loading a CA bundle costs 20-100 ms on this project's machines, more than the rest of a
one-step `reqflo run` against a local target, and a run that only calls http:// URLs never
needs it. A context here is made with every setting at once (TLS client, hostname checked,
certificates required) and trusts nothing until its first `wrap_socket`/`wrap_bio`, which loads
the certificates under a lock before the handshake goes on. A deferral can therefore only fail
closed: a handshake before the load would fail verification, never pass unverified.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from collections.abc import Callable
from functools import cache
from typing import Any


class DeferredTrustContext(ssl.SSLContext):
    """A `PROTOCOL_TLS_CLIENT` context; `load(context)` adds the trusted CAs at first use."""

    def __new__(cls, load: Callable[[ssl.SSLContext], None]) -> DeferredTrustContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, load: Callable[[ssl.SSLContext], None]) -> None:
        self._load: Callable[[ssl.SSLContext], None] | None = load
        self._lock = threading.Lock()
        # As ssl.create_default_context does: lets Wireshark decrypt a debugging session.
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            self.keylog_filename = keylog

    def _trust(self) -> None:
        if self._load is None:
            return
        with self._lock:
            if self._load is not None:
                self._load(self)
                self._load = None

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()
        return super().wrap_bio(*args, **kwargs)


def _system_store(context: ssl.SSLContext) -> None:
    context.load_default_certs(ssl.Purpose.SERVER_AUTH)


def _httpx_store(context: ssl.SSLContext) -> None:
    # The choice httpx.create_ssl_context(verify=True, trust_env=True) makes (httpx 0.28).
    if os.environ.get("SSL_CERT_FILE"):
        context.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        context.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
    else:
        import certifi  # httpx's own dependency

        context.load_verify_locations(cafile=certifi.where())


@cache
def ssl_context(verify: bool) -> ssl.SSLContext:
    """Return one context per setting for the engine's clients: the system's CA store.

    It is what `ssl.create_default_context()` returns, loaded at the first handshake; with
    `verify=False` nothing is checked and nothing loaded. One per process: the context is never
    changed after it is made.
    """
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return DeferredTrustContext(_system_store)


@cache
def httpx_default_context() -> ssl.SSLContext:
    """Return the context httpx would make by default (SSL_CERT_FILE, SSL_CERT_DIR or certifi).

    `reqflo run` has always verified with it; it is loaded at the first handshake.
    """
    return DeferredTrustContext(_httpx_store)
