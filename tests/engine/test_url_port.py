"""A URL's port outside 1 to 65535 is refused in words that name it, wherever a URL is taken:
environments, alert webhooks, the CLI's server address (one helper, ``url_port``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from reqflo.cli.errors import CliError
from reqflo.cli.server import server_url
from reqflo.engine.egress import url_port
from reqflo.journeys.models import validate_http_url

BAD_PORTS = st.one_of(
    st.integers(min_value=65536, max_value=10**12).map(str),
    st.just("0"),
    st.text(alphabet="abcxyz-+.", min_size=1, max_size=6),
    st.integers(min_value=1, max_value=9999).map(lambda n: f"{n}x"),
)
HOSTS = st.sampled_from(["example.com", "127.0.0.1", "[::1]", "api"])


@given(host=HOSTS, port=BAD_PORTS)
def test_a_bad_port_is_named_everywhere_a_url_is_taken(host: str, port: str) -> None:
    url = f"https://{host}:{port}/hook"
    expected = f"the port {port[:20]} is not a number from 1 to 65535"
    with pytest.raises(ValueError, match="is not a number from 1 to 65535") as plain:
        url_port(urlsplit(url))
    assert str(plain.value) == expected
    with pytest.raises(ValidationError) as environment:
        validate_http_url(url)
    assert environment.value.messages == [expected.capitalize() + "."]
    with pytest.raises(CliError) as cli:
        server_url(url, source="--url")
    assert str(cli.value) == f"--url: {expected}"


@given(host=HOSTS, port=st.integers(min_value=1, max_value=65535))
def test_a_good_port_is_read(host: str, port: int) -> None:
    assert url_port(urlsplit(f"http://{host}:{port}/x")) == port
    assert url_port(urlsplit(f"http://{host}/x")) is None
    validate_http_url(f"http://{host}:{port}/x")
