"""The egress policy's address checks (pure: IP literals and the local resolver only)."""

from __future__ import annotations

import pytest

from reqflo.runners.egress import egress_violation


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "fe80::1", "localhost"],
)
def test_private_loopback_and_link_local_hosts_are_refused(host: str) -> None:
    reason = egress_violation(host, 80, allow=[], allow_private=False)
    assert reason is not None
    assert reason.startswith(f"egress policy: {host} resolves to ")


def test_a_public_address_may_be_called() -> None:
    assert egress_violation("93.184.216.34", 443, allow=[], allow_private=False) is None


def test_an_allowed_host_may_be_called_even_when_private() -> None:
    assert egress_violation("10.1.2.3", 80, allow=["10.1.2.3"], allow_private=False) is None
    assert egress_violation("LOCALHOST", 80, allow=["localhost"], allow_private=False) is None


def test_the_setting_allows_every_private_host() -> None:
    assert egress_violation("127.0.0.1", 80, allow=[], allow_private=True) is None
