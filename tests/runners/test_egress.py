"""The egress policy: every non-public address refused, lookups failing closed, connections pinned.

Names are answered by a patched resolver (``reqflo.engine.egress.resolve``) and every server is
on loopback: a "public" answer such as 93.184.216.34 is dialled, through a patched
``PinningBackend.dial``, to a loopback server standing in for it. No traffic leaves loopback.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from reqflo.engine import egress
from reqflo.engine.egress import EgressBlocked, EgressTransport, egress_violation
from reqflo.engine.http import classify
from tests.loopback import self_signed

PUBLIC = "93.184.216.34"

NOT_GLOBAL = [
    "127.0.0.1",
    "127.1.2.3",
    "0.0.0.0",
    "0.1.2.3",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.0.10",
    "169.254.169.254",
    "100.64.0.1",
    "100.100.100.200",  # cloud metadata in the shared address space
    "192.0.0.192",
    "192.0.2.1",
    "192.88.99.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "3fff::1",
    "5f00::1",
    "100::1",
    "2001:2::1",
    "64:ff9b:1::1",  # local-use NAT64
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:c000:2c0::",  # 6to4 of 192.0.2.192
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
    "2001:0:808:808::80ff:fffe",  # Teredo whose client is 127.0.0.1
    "2001:0:a00:1::f7f7:f7f7",  # Teredo whose server is 10.0.0.1
]

GLOBAL = [
    PUBLIC,
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


Answers = dict[str, list[Any]]


@dataclass
class FakeResolver:
    """Answers names from ``answers`` in turn (the last answer repeats); counts the lookups."""

    answers: Answers = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return list(answer)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    fake = FakeResolver()
    monkeypatch.setattr(egress, "resolve", fake)
    return fake


def refused(host: str, **policy: Any) -> str | None:
    return egress_violation(host, 80, allow=policy.get("allow", []), allow_private=False)


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_every_non_global_address_is_refused_as_a_literal(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    reason = refused(host)
    assert reason is not None, f"{address} was let through"
    assert reason.startswith(f"egress policy: {host} resolves to ")
    assert "not a public address" in reason


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_every_non_global_address_is_refused_behind_a_name(
    address: str, resolver: FakeResolver
) -> None:
    resolver.answers["api.example.test"] = [[address]]
    reason = refused("api.example.test")
    assert reason is not None, f"a name resolving to {address} was let through"
    assert "api.example.test resolves to a non-public address" in reason
    assert address not in reason  # the internal address is not told to the journey's author


@pytest.mark.parametrize("address", GLOBAL)
def test_public_addresses_may_be_called(address: str, resolver: FakeResolver) -> None:
    resolver.answers["api.example.test"] = [[address]]
    assert refused("api.example.test") is None
    assert refused(f"[{address}]" if ":" in address else address) is None


def test_one_private_address_among_public_ones_refuses_the_name(resolver: FakeResolver) -> None:
    resolver.answers["mixed.example.test"] = [[PUBLIC, "10.0.0.5"]]
    reason = refused("mixed.example.test")
    assert reason is not None
    assert "mixed.example.test resolves to a non-public address" in reason
    assert "10.0.0.5" not in reason


@pytest.mark.parametrize(
    "failure",
    [
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),  # SERVFAIL
        OSError("resolver unreachable"),
    ],
)
def test_a_failed_lookup_is_refused(failure: OSError, resolver: FakeResolver) -> None:
    resolver.answers["flaky.example.test"] = [failure]
    reason = refused("flaky.example.test")
    assert reason is not None
    assert "could not be resolved" in reason
    # Also when the address rule is lifted: a name that does not resolve is never "allowed".
    reason = egress_violation("flaky.example.test", 80, allow=[], allow_private=True)
    assert reason is not None


def test_servfail_then_loopback_is_refused_both_times(resolver: FakeResolver) -> None:
    resolver.answers["rebind.example.test"] = [
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        ["127.0.0.1"],
    ]
    assert "could not be resolved" in (refused("rebind.example.test") or "")
    assert "resolves to a non-public address" in (refused("rebind.example.test") or "")


def test_an_empty_answer_is_refused(resolver: FakeResolver) -> None:
    resolver.answers["empty.example.test"] = [[]]
    assert "no address" in (refused("empty.example.test") or "")


def test_the_allow_list_is_the_only_way_in(resolver: FakeResolver) -> None:
    resolver.answers["intranet.example.test"] = [["10.1.2.3"]]
    resolver.answers["localhost"] = [["127.0.0.1", "::1"]]
    assert refused("intranet.example.test") is not None
    assert refused("intranet.example.test", allow=["INTRANET.example.test"]) is None
    assert refused("10.1.2.3", allow=["10.1.2.3"]) is None
    assert refused("localhost", allow=["localhost"]) is None


def test_the_setting_allows_every_private_host() -> None:
    assert egress_violation("127.0.0.1", 80, allow=[], allow_private=True) is None


# --- The transport: pinned connections, Host header and SNI kept, every redirect hop checked --


@dataclass
class Server:
    """A loopback HTTP(S) server recording the Host header and TLS server name of each request."""

    address: str
    port: int
    hosts: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    redirect_to: str | None = None


ServerFactory = Callable[..., Server]


@pytest.fixture
def serve() -> Iterator[ServerFactory]:
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(address: str, port: int = 0, *, tls: ssl.SSLContext | None = None) -> Server:
        record = Server(address, port)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                record.hosts.append(self.headers.get("Host", ""))
                if record.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", record.redirect_to)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        server = ThreadingHTTPServer((address, port), Handler)
        server.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: record.server_names.append(name)
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        record.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        running.append((server, thread))
        return record

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def dialled(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Record each address the backend dials; PUBLIC is dialled to a loopback stand-in."""
    state: dict[str, Any] = {"addresses": [], "public": None}
    real = egress.PinningBackend.dial

    def dial(self: egress.PinningBackend, address: str, port: int, *rest: Any) -> Any:
        state["addresses"].append(address)
        if address == PUBLIC:
            address = state["public"]
        return real(self, address, port, *rest)

    monkeypatch.setattr(egress.PinningBackend, "dial", dial)
    return state


def _client(**policy: Any) -> httpx.Client:
    transport = EgressTransport(
        allow=policy.get("allow", []),
        allow_private=policy.get("allow_private", False),
        verify=policy.get("verify", True),
    )
    return httpx.Client(transport=transport, trust_env=False, follow_redirects=True)


def test_the_connection_goes_to_the_address_that_was_checked(
    resolver: FakeResolver, serve: ServerFactory, dialled: dict[str, Any]
) -> None:
    pinned = serve("127.0.0.1")
    other = serve("127.0.0.3", pinned.port)
    # The first answer is checked and used; a second lookup would give another address.
    resolver.answers["pinned.example.test"] = [["127.0.0.1"], ["127.0.0.3"]]
    with _client(allow=["pinned.example.test"]) as client:
        response = client.get(f"http://pinned.example.test:{pinned.port}/")
    assert response.status_code == 200
    assert resolver.calls == ["pinned.example.test"], "the name was looked up more than once"
    assert dialled["addresses"] == ["127.0.0.1"]
    assert pinned.hosts == [f"pinned.example.test:{pinned.port}"]  # the Host header is kept
    assert other.hosts == []


def test_rebinding_from_a_public_answer_to_loopback_cannot_reach_loopback(
    resolver: FakeResolver, serve: ServerFactory, dialled: dict[str, Any]
) -> None:
    internal = serve("127.0.0.1")
    public = serve("127.0.0.3", internal.port)
    dialled["public"] = public.address
    resolver.answers["rebind.example.test"] = [[PUBLIC], ["127.0.0.1"]]
    with _client() as client:
        response = client.get(f"http://rebind.example.test:{internal.port}/")
    assert response.status_code == 200
    assert dialled["addresses"] == [PUBLIC]
    assert public.hosts == [f"rebind.example.test:{internal.port}"]
    assert internal.hosts == [], "the rebinding answer was used"


@pytest.mark.parametrize("hop", ["name", "literal"])
def test_every_redirect_hop_is_checked(
    hop: str, resolver: FakeResolver, serve: ServerFactory, dialled: dict[str, Any]
) -> None:
    internal = serve("127.0.0.1")
    public = serve("127.0.0.3", internal.port)
    dialled["public"] = public.address
    resolver.answers["public.example.test"] = [[PUBLIC]]
    resolver.answers["internal.example.test"] = [["127.0.0.1"]]
    host = "internal.example.test" if hop == "name" else "127.0.0.1"
    public.redirect_to = f"http://{host}:{internal.port}/secret"
    with _client() as client, pytest.raises(EgressBlocked) as blocked:
        client.get(f"http://public.example.test:{internal.port}/")
    said = "a non-public address" if hop == "name" else "127.0.0.1"
    assert f"egress policy: {host} resolves to {said}" in str(blocked.value)
    assert public.hosts == [f"public.example.test:{internal.port}"]
    assert internal.hosts == []


def test_a_failed_lookup_fails_the_request_as_a_dns_error(resolver: FakeResolver) -> None:
    resolver.answers["gone.example.test"] = [socket.gaierror(socket.EAI_AGAIN, "SERVFAIL")]
    with _client(allow_private=True) as client, pytest.raises(EgressBlocked) as blocked:
        client.get("http://gone.example.test/")
    error = classify(blocked.value, reading=False, timeout_ms=1000)
    assert error.kind == "dns"
    assert "gone.example.test could not be resolved" in error.message


def test_tls_keeps_the_host_name_as_server_name(
    resolver: FakeResolver, serve: ServerFactory, tmp_path: Path
) -> None:
    server = serve("127.0.0.1", tls=self_signed(tmp_path, "sni.example.test")[0])
    resolver.answers["sni.example.test"] = [["127.0.0.1"]]
    with _client(allow=["sni.example.test"], verify=False) as client:
        response = client.get(f"https://sni.example.test:{server.port}/")
    assert response.status_code == 200
    assert server.server_names == ["sni.example.test"]
    assert server.hosts == [f"sni.example.test:{server.port}"]


@pytest.mark.parametrize(
    "host",
    ["localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0", "[::ffff:7f00:1]"],
)
def test_other_spellings_of_loopback_are_refused_by_the_real_resolver(host: str) -> None:
    # Numeric forms and /etc/hosts names: getaddrinfo answers them without a DNS query.
    reason = refused(host)
    assert reason is not None, f"{host} was let through"
    assert "resolves to" in reason


METADATA_SPELLINGS = [
    "169.254.169.254",
    "169.254.0.1",
    "100.100.100.200",
    "[fe80::1]",
    "[fd00:ec2::254]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64
    "[2002:a9fe:a9fe::]",  # 6to4
]


@pytest.mark.parametrize("host", METADATA_SPELLINGS)
def test_metadata_services_are_refused_even_where_private_addresses_are_allowed(
    host: str, resolver: FakeResolver
) -> None:
    """The embedded default allows private addresses (its demo shop is on loopback); a
    verifier found 169.254.169.254 let through there, which hands a cloud VM's credentials to
    anyone who writes a journey. Link-local and metadata addresses stay refused."""
    reason = egress_violation(host, 80, allow=[], allow_private=True)
    assert reason is not None, f"{host} was let through"
    assert "link-local or cloud metadata" in reason
    resolver.answers["meta.example.test"] = [[host.strip("[]")]]
    named = egress_violation("meta.example.test", 80, allow=[], allow_private=True)
    assert named is not None
    assert "link-local or cloud metadata" in named
    assert host.strip("[]") not in named  # the address a name has is not told
    # Only the allow-list lets one in: by name, or by its network.
    allowed = egress_violation(
        "meta.example.test", 80, allow=["meta.example.test"], allow_private=True
    )
    assert allowed is None


@pytest.mark.parametrize(
    ("host", "network"),
    [("169.254.169.254", "169.254.169.254/32"), ("[fd00:ec2::254]", "fd00:ec2::/64")],
)
def test_a_metadata_address_on_the_allow_list_may_be_called(host: str, network: str) -> None:
    assert egress_violation(host, 80, allow=[network], allow_private=True) is None


def test_loopback_and_private_networks_stay_allowed_where_private_addresses_are() -> None:
    for host in ("127.0.0.1", "10.1.2.3", "192.168.1.10", "[::1]"):
        assert egress_violation(host, 80, allow=[], allow_private=True) is None
