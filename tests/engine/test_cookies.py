"""A run's cookie jar: responses that set cookies fill it, the others are not parsed for them."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest

from reqflo.engine.http import RunCookies, new_client
from tests.cli.conftest import EchoServer
from tests.loopback import serving


class CountingJar(CookieJar):
    """The standard jar, counting the responses httpx hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    def extract_cookies(self, response: Any, request: Any) -> None:
        self.read += 1
        super().extract_cookies(response, request)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with serving(EchoServer()) as server:
        yield server


def test_only_responses_that_set_a_cookie_are_read_and_the_cookie_is_sent_back(
    echo: EchoServer,
) -> None:
    client = new_client(verify_tls=True)
    assert isinstance(client.cookies, RunCookies)
    jar = CountingJar()
    client.cookies.jar = jar

    client.get(f"{echo.url}/plain")
    client.get(f"{echo.url}/login", params={"set_cookie": "abc"})
    sent = client.get(f"{echo.url}/next").json()["headers"]
    client.get(f"{echo.url}/again")

    assert jar.read == 1
    assert sent["Cookie"] == "echo=abc"
    assert client.cookies.get("echo") == "abc"
    client.close()
