"""A run's cookie jar: responses that set cookies fill it, the others are not parsed for them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx
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


@pytest.mark.parametrize(
    ("domain", "path", "url", "sent"),
    [
        ("127.0.0.1", "/", "http://127.0.0.1:8000/cart", True),
        ("127.0.0.1", "/api", "http://127.0.0.1:8000/cart", False),  # another path
        ("example.com", "/", "http://127.0.0.1:8000/cart", False),  # another host
    ],
)
def test_the_cookie_header_is_what_httpx_itself_would_send(
    domain: str, path: str, url: str, sent: bool
) -> None:
    # The run's client asks its own jar (no copies); plain httpx copies it twice. Same policy.
    clients = (new_client(verify_tls=True), httpx.Client())
    for client in clients:
        client.cookies.set("session", "abc", domain=domain, path=path)
    headers = [c.build_request("GET", url).headers.get("cookie") for c in clients]

    assert headers[0] == headers[1] == ("session=abc" if sent else None)
    # A Cookie header the step sets itself wins, as in httpx.
    own = clients[0].build_request("GET", url, headers={"Cookie": "mine=1"})
    assert own.headers["cookie"] == "mine=1"
    with pytest.raises(TypeError):
        clients[0].build_request("GET", url, cookies={"other": "1"})


@pytest.mark.parametrize(
    ("cookie", "url"),
    [
        ({"domain": ".example.com", "path": "/"}, "http://api.example.com/v1/items"),
        ({"domain": "example.com", "path": "/api"}, "http://example.com/api/items?x=1#top"),
        ({"domain": "example.com", "path": "/api"}, "http://example.com/apiary"),
        ({"domain": "example.com", "path": "/api/"}, "http://example.com/api"),
        ({"domain": "example.com", "path": "/", "secure": True}, "http://example.com/"),
        ({"domain": "example.com", "path": "/", "secure": True}, "https://example.com/"),
        ({"domain": "example.com", "path": "/", "port": "8443"}, "https://example.com:8443/"),
        ({"domain": "example.com", "path": "/", "port": "8443"}, "https://example.com:9443/"),
        ({"domain": "example.com", "path": "/", "expires": 1}, "http://example.com/"),
        ({"domain": "EXAMPLE.com", "path": "/"}, "http://user:pw@Example.COM/%7Ea/b"),
        ({"domain": "xn--bcher-kva.example", "path": "/"}, "http://bücher.example/"),
    ],
)
def test_the_jar_is_asked_what_httpx_asks_it(cookie: dict[str, Any], url: str) -> None:
    """The run's lighter request view (`_JarRequest`) gets the Cookie header httpx's would:
    domains, paths, the secure flag, ports, expiry, user info and IDNA hosts."""
    jar_cookie = Cookie(
        version=0,
        name="session",
        value="abc",
        port=cookie.get("port"),
        port_specified="port" in cookie,
        domain=cookie["domain"],
        domain_specified=cookie["domain"].startswith("."),
        domain_initial_dot=cookie["domain"].startswith("."),
        path=cookie["path"],
        path_specified=True,
        secure=cookie.get("secure", False),
        expires=cookie.get("expires"),
        discard=False,
        comment=None,
        comment_url=None,
        rest={},
    )
    clients = (new_client(verify_tls=True), httpx.Client())
    for client in clients:
        client.cookies.jar.set_cookie(copy.copy(jar_cookie))
    requests = [c.build_request("GET", url, headers={"X-Step": "1"}) for c in clients]

    assert requests[0].headers.get("cookie") == requests[1].headers.get("cookie")
    # The policy drops an expired cookie from the jar it asks: the run's own (httpx's: a copy).
    assert len(clients[0].cookies.jar) == (0 if "expires" in cookie else 1)
    for client in clients:
        client.close()
