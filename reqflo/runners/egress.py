"""The Cloud Runner's egress policy: no private, loopback or link-local targets by default.

A shared cloud worker must not become a way into the network it runs in (SSRF). Every request a
cloud run sends, including each redirect hop, goes through ``EgressTransport``, which resolves the
host and refuses it when any of its addresses is not public, unless the host is allowed.
The check and the connection resolve separately, so a DNS answer that changes in between
(rebinding) is not covered; workers should also sit behind a network policy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpx


class EgressBlocked(httpx.ConnectError):
    """The target resolves to an address the egress policy forbids; the message says which."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def egress_violation(
    host: str, port: int, *, allow: Iterable[str], allow_private: bool
) -> str | None:
    """Return why a request to ``host`` is refused, or None when it may go."""
    name = host.strip("[]").lower()
    if allow_private or name in {h.lower() for h in allow}:
        return None
    try:
        addresses = _addresses(name, port)
    except OSError:
        return None  # the request itself reports the DNS error, as on any runner
    for address in addresses:
        if _forbidden(address):
            return (
                f"egress policy: {host} resolves to {address}, a private, loopback or link-local "
                "address that cloud runs may not call; an owner can allow the host in "
                "Admin → Runners"
            )
    return None


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport that checks every request against the egress policy first."""

    def __init__(self, *, allow: Iterable[str], allow_private: bool, verify: bool = True) -> None:
        super().__init__(verify=verify)
        self._allow = frozenset(allow)
        self._allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        reason = egress_violation(
            url.host,
            url.port or (443 if url.scheme == "https" else 80),
            allow=self._allow,
            allow_private=self._allow_private,
        )
        if reason is not None:
            raise EgressBlocked(reason, request=request)
        return super().handle_request(request)
