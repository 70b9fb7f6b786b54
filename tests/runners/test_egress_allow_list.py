"""The owners' egress allow-list: host names, IP addresses and CIDR networks, each checked.

Requests go to a real HTTP server on loopback through the cloud runner's ``EgressTransport``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from reqflo.engine.egress import (
    AllowEntryError,
    EgressBlocked,
    EgressTransport,
    allow_entry,
    egress_violation,
)


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _get(url: str, allow: list[str]) -> httpx.Response:
    with httpx.Client(transport=EgressTransport(allow=allow, allow_private=False)) as client:
        return client.get(url)


def test_a_network_on_the_allow_list_lets_its_addresses_through(loopback_url: str) -> None:
    assert _get(loopback_url, ["127.0.0.0/8"]).text == "hello"
    assert _get(loopback_url, ["127.0.0.1"]).text == "hello"


def test_an_address_outside_every_allowed_network_stays_refused(loopback_url: str) -> None:
    with pytest.raises(EgressBlocked, match=r"resolves to 127\.0\.0\.1"):
        _get(loopback_url, ["10.0.0.0/8", "127.0.0.2", "api.internal"])


@pytest.mark.parametrize(
    ("address", "allow", "allowed"),
    [
        ("10.20.3.4", ["10.20.0.0/16"], True),
        ("10.21.0.1", ["10.20.0.0/16"], False),
        ("fd00::5", ["fd00::/8"], True),
        ("fd00::5", ["10.0.0.0/8"], False),
        # A mapped address is not taken for the IPv4 network it embeds: refused, not guessed.
        ("::ffff:10.20.3.4", ["10.20.0.0/16"], False),
    ],
)
def test_networks_match_addresses_of_their_own_version(
    address: str, allow: list[str], allowed: bool
) -> None:
    reason = egress_violation(address, 80, allow=allow, allow_private=False)
    assert (reason is None) is allowed, reason


@pytest.mark.parametrize(
    ("entry", "normal"),
    [
        ("API.Internal.", "api.internal"),
        ("10.0.0.5", "10.0.0.5"),
        ("[fd00:0::1]", "fd00::1"),
        ("10.20.0.0/16", "10.20.0.0/16"),
        ("FD00::/8", "fd00::/8"),
        ("münchen.example", "xn--mnchen-3ya.example"),
        ("localhost", "localhost"),
    ],
)
def test_entries_are_written_in_one_normal_form(entry: str, normal: str) -> None:
    assert allow_entry(entry) == normal


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("https://api.internal", "is a URL"),
        ("api.internal/v1", "has a path"),
        ("api.internal:8443", "has a port"),
        ("*.internal", "has a wildcard"),
        ("10.0.0.1/8", "has host bits set; the network is written 10.0.0.0/8"),
        ("10.0.0.0/33", "is not a CIDR network"),
        ("0.0.0.0/0", "is wider than /8: it would switch the egress policy off"),
        ("128.0.0.0/1", "is wider than /8"),
        ("::/0", "is wider than /8"),
        ("fc00::/7", "is wider than /8"),
        ("10.0.0.256", "is not a valid IPv4 address"),
        ("under_score.test", "is not a valid host name"),
        ("-dash.test", "is not a valid host name"),
        ("a..b", "is not a valid host name"),
        ("x" * 64 + ".test", "is not a valid host name"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: str, reason: str) -> None:
    with pytest.raises(AllowEntryError, match=re.escape(reason)):
        allow_entry(entry)
