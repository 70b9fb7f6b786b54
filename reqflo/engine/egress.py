"""The Cloud Runner's egress policy: cloud runs reach only public addresses and allowed hosts.

A shared cloud worker must not become a way into the network it runs in (SSRF). Every request a
cloud run sends, including each redirect hop, goes through ``EgressTransport``, whose connections
are opened by ``PinningBackend``: it resolves the host **once**, refuses it when any address it
resolves to is not globally reachable (or when it does not resolve at all), and connects to the
very address it checked. The Host header and the TLS server name stay the URL's host name (httpx
and httpcore set them from the URL, not from the socket), so virtual hosts and certificates work
as usual, and a DNS answer that changes between the check and the connection (rebinding) cannot
move the request elsewhere: there is no second lookup.

An address is refused when it, or the IPv4 address it embeds (IPv4-mapped, 6to4, NAT64
``64:ff9b::/96``, Teredo), is not globally reachable by the IANA special-purpose registries
(``NOT_GLOBAL`` below, because the running Python's ``is_global`` may predate them), or is
multicast. The owners' allow-list is the only way in: host names (compared case-insensitively,
for that name only), IP addresses and CIDR networks (any address the host resolves to inside
them); ``allow_entry`` checks an entry when an owner saves it.
``REQFLO_EGRESS_ALLOW_PRIVATE`` lifts the address rule for a whole single-machine install.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import SplitResult

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
logger = logging.getLogger(__name__)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Not globally reachable (IANA IPv4/IPv6 special-purpose address registries, "Globally
# Reachable" False or N/A), whatever the running Python's ipaddress tables say.
NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the machine itself
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (CGNAT; 100.100.100.200 is a metadata service)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local (169.254.169.254 is a metadata service)
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/8",  # unspecified, loopback, IPv4-compatible and other reserved (mapped is unwrapped)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments (Teredo 2001::/32 is unwrapped first)
        "2001:db8::/32",
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AllowEntryError(ValueError):
    """An allow-list entry that is no host name, IP address or network; says why, in words."""


def url_port(parts: SplitResult) -> int | None:
    """Return the URL's explicit port (1 to 65535), or None when it names none.

    Raises ``ValueError("the port 99999 is not a number from 1 to 65535")`` for anything else
    (too large, 0, not digits), naming the port as written, for a message that says which part
    of the URL is wrong (``urlsplit``'s own "Port out of range 0-65535" allows 0 and names
    nothing).
    """
    written = parts.netloc.rpartition("@")[2].rpartition("]")[2].rpartition(":")[2]
    problem = ValueError(f"the port {written[:20]} is not a number from 1 to 65535")
    try:
        port = parts.port
    except ValueError:
        raise problem from None
    if port == 0:
        raise problem
    return port


def _network(entry: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


# The widest network an allow-list may name, per IP version: 10.0.0.0/8 and fd00::/8 are fine,
# 0.0.0.0/0 (everything) is not. Turning the policy off is the operator's decision for the whole
# install (REQFLO_EGRESS_ALLOW_PRIVATE), never one workspace owner's.
WIDEST_PREFIX = {4: 8, 6: 8}


def allow_entry(text: str) -> str:
    """Return an egress allow-list entry in its normal form, or raise ``AllowEntryError``.

    An entry is a host name (``api.internal``), an IP address (``10.0.0.5``, ``fd00::1``) or a
    CIDR network (``10.20.0.0/16``). Host names are lower-cased without a trailing dot;
    addresses and networks are written the way ``ipaddress`` writes them.
    """
    entry = text.strip()
    if not entry:
        raise AllowEntryError("is empty")
    if "://" in entry:
        raise AllowEntryError("is a URL; write only the host name, e.g. api.internal")
    if "*" in entry:
        raise AllowEntryError(
            "has a wildcard; list each host name, or the network its addresses are in"
        )
    if "/" in entry:
        if _network(entry.split("/", 1)[0]) is None:
            raise AllowEntryError("has a path; write only the host name, e.g. api.internal")
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            if "host bits set" in str(exc):
                network = ipaddress.ip_network(entry, strict=False)
                raise AllowEntryError(
                    f"has host bits set; the network is written {network}"
                ) from None
            raise AllowEntryError(
                "is not a CIDR network (write it like 10.20.0.0/16 or fd00::/8)"
            ) from None
        widest = WIDEST_PREFIX[network.version]
        if network.prefixlen < widest:
            raise AllowEntryError(
                f"is wider than /{widest}: it would switch the egress policy off for this "
                "workspace (metadata services included); list the networks the journeys call"
            )
        return str(network)
    try:
        return str(ipaddress.ip_address(entry.strip("[]")))
    except ValueError:
        pass
    name = entry.lower().removesuffix(".")
    if ":" in name:
        raise AllowEntryError("has a port or is not an address; write the host name without a port")
    if re.fullmatch(r"[0-9.]+", name):
        raise AllowEntryError("is not a valid IPv4 address")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise AllowEntryError("is not a valid host name") from None
    if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise AllowEntryError(
            "is not a valid host name (letters, digits and hyphens in dot-separated labels)"
        )
    return name


class EgressBlocked(httpx.ConnectError):
    """The target is refused by the egress policy; the message says which host and why."""


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses an IPv6 address stands for (mapped, 6to4, NAT64, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address in NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    return []


def not_global(address: IPAddress) -> bool:
    """Whether the address, once unwrapped, may not be called by cloud runs."""
    embedded = embedded_ipv4(address)
    if embedded:
        return any(not_global(inner) for inner in embedded)
    return (
        not address.is_global
        or address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or any(address in network for network in NOT_GLOBAL if network.version == address.version)
    )


# Refused even where private addresses are allowed (the embedded default, whose demo shop is on
# loopback): link-local networks and cloud metadata services, which hand a machine's
# credentials to whoever asks from it. Only the workspace's allow-list lets one in.
METADATA = tuple(
    ipaddress.ip_network(network)
    for network in (
        "169.254.0.0/16",  # link-local; 169.254.169.254 is AWS's, GCP's, Azure's metadata
        "100.100.100.200/32",  # Alibaba Cloud's metadata service
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS's metadata service over IPv6
    )
)


def is_metadata(address: IPAddress) -> bool:
    """Whether the address, once unwrapped, is link-local or a cloud metadata service."""
    inner: list[IPAddress] = [*embedded_ipv4(address)] or [address]
    return any(
        candidate in network
        for candidate in inner
        for network in METADATA
        if network.version == candidate.version
    )


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to (the one lookup a connection gets).

    Tests replace this function to play a resolver; raises OSError when the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class EgressPolicy:
    """What a workspace's cloud runs may connect to."""

    allow: frozenset[str]
    allow_private: bool
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, *, allow: Iterable[str], allow_private: bool) -> EgressPolicy:
        entries = frozenset(h.strip().lower() for h in allow if h.strip())
        networks = tuple(net for entry in entries if (net := _network(entry)) is not None)
        return cls(entries, allow_private, networks)

    def _allowed_address(self, address: IPAddress) -> bool:
        return any(address in net for net in self.networks if net.version == address.version)

    def addresses(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` once and return the addresses to connect to, all of them checked.

        Raises ``EgressBlocked`` when the host does not resolve or any address is refused.
        """
        name = host.strip("[]").lower()
        try:
            literal: IPAddress | None = ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            literal = None
        if literal is not None:
            found = [name]
        else:
            try:
                found = resolve(name, port)
            except OSError as exc:
                raise EgressBlocked(
                    f"egress policy: {host} could not be resolved ({exc}); a name that does not "
                    "resolve is refused"
                ) from exc
            if not found:
                raise EgressBlocked(f"egress policy: {host} resolved to no address; refused")
        if name in self.allow:
            return found
        if self.allow_private:
            for text in found:
                address = ipaddress.ip_address(text.split("%")[0])
                if is_metadata(address) and not self._allowed_address(address):
                    logger.info("Egress refused: %s resolves to %s (metadata)", host, address)
                    raise EgressBlocked(
                        f"egress policy: {host} resolves to a link-local or cloud metadata "
                        "address, which cloud runs may not call even where private addresses "
                        "are allowed; an owner can allow the host in Admin → Runners"
                    )
            return found
        for text in found:
            address = ipaddress.ip_address(text.split("%")[0])
            if not_global(address) and not self._allowed_address(address):
                if literal is None:
                    # The refusal reaches evidence an editor reads: it does not say which
                    # internal address the name has, or the worker would map internal DNS
                    # for anyone who can write a journey. Operators find it in the log.
                    logger.info("Egress refused: %s resolves to %s (not public)", host, address)
                    what = f"{host} resolves to a non-public address"
                else:
                    what = f"{host} resolves to {address}, which is not a public address"
                raise EgressBlocked(
                    f"egress policy: {what} (private, loopback, link-local, shared, multicast "
                    "or another special-purpose range) and cloud runs may not call it; an owner "
                    "can allow the host in Admin → Runners"
                )
        return found


def egress_violation(
    host: str, port: int, *, allow: Iterable[str], allow_private: bool
) -> str | None:
    """Return why a request to ``host`` is refused, or None when it may go (one lookup)."""
    try:
        EgressPolicy.of(allow=allow, allow_private=allow_private).addresses(host, port)
    except EgressBlocked as exc:
        return str(exc)
    return None


class PinningBackend(httpcore.SyncBackend):
    """Open each connection to an address the policy checked, from a single lookup.

    httpcore asks the backend for a TCP stream to (host, port) and then starts TLS with the
    URL's host as server name; only the socket's peer address is replaced here.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.policy.addresses(host, port):
            try:
                return self.dial(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc  # the next address the name resolved to may answer
        assert error is not None
        raise error

    def dial(
        self,
        address: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.NetworkStream:
        """Connect to one checked address (an IP literal: no lookup happens here)."""
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


@cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """Return one context per setting, from certifi's bundle (never ``SSL_CERT_FILE``).

    Shared by every run of the process: loading the CA bundle for each run cost 30-100 ms of
    every dispatch. The context is never changed after it is made.
    """
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through the egress policy, pinned.

    Nothing is taken from the environment: no proxy, no CA file from ``SSL_CERT_FILE``.
    """

    def __init__(self, *, allow: Iterable[str], allow_private: bool, verify: bool = True) -> None:
        super().__init__(verify=_ssl_context(verify), trust_env=False)
        self.policy = EgressPolicy.of(allow=allow, allow_private=allow_private)
        # httpx builds the pool with the default backend; the pool keeps its own reference.
        self._pool._network_backend = PinningBackend(self.policy)
