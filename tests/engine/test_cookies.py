"""A run's cookie jar: responses that set cookies fill it, the others are not parsed for them."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.http import RunCookies, RunJar, new_client
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


# The remembered Cookie header (`RunJar`) against the standard jar, asked afresh every time.
HOSTS = ["example.com", "api.example.com", "localhost"]
PATHS = ["/", "/api", "/api/", "/api/items", "/apiary", "/a%7eb"]
URL_PATHS = ["", "/", "/api", "/api/items", "/apiary/x", "/a~b", "/api/items?x=1", "/?q#f"]


def _cookie(name: str, domain: str, path: str, secure: bool, port: str | None, expires: Any):
    return Cookie(
        version=0,
        name=name,
        value=f"v-{name}",
        port=port,
        port_specified=port is not None,
        domain=domain,
        domain_specified=domain.startswith("."),
        domain_initial_dot=domain.startswith("."),
        path=path,
        path_specified=True,
        secure=secure,
        expires=expires,
        discard=False,
        comment=None,
        comment_url=None,
        rest={},
    )


cookies = st.builds(
    _cookie,
    name=st.sampled_from(["a", "b", "c"]),
    domain=st.sampled_from(
        [*HOSTS, *HOSTS, "EXAMPLE.com", ".example.com", "localhost.local", "other.org"]
    ),
    path=st.sampled_from(["/", "/", *PATHS]),
    secure=st.booleans(),
    port=st.sampled_from([None, None, "8443", "80,8443"]),
    expires=st.sampled_from([None, None, 1_000, 1_005, 1_010.5, 5_000]),
)
origins = st.builds(
    lambda scheme, user, host, port: f"{scheme}://{user}{host}{port}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["", "", "", "user:pw@"]),
    st.sampled_from(HOSTS),
    st.sampled_from(["", "", ":8443", ":80"]),
)
# A few URLs on two origins: the same origin on other paths, or another scheme, host or port.
pools = st.tuples(origins, origins).flatmap(
    lambda two: st.lists(
        st.builds(str.__add__, st.sampled_from(two), st.sampled_from(URL_PATHS)),
        min_size=4,
        max_size=4,
    )
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("set"), cookies),
        st.tuples(st.just("clear"), st.sampled_from([None, "example.com"])),
        st.tuples(st.just("wait"), st.sampled_from([1, 4, 6, 3_000])),
        # A request to one of a few URLs (the same one again, or another scheme, port, path).
        st.tuples(st.just("send"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("send"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("send"), st.integers(0, 3), st.booleans()),
    ),
    min_size=4,
    max_size=30,
)


@settings(max_examples=600, deadline=None)
@given(pools, st.lists(cookies, min_size=1, max_size=3), actions)
def test_the_remembered_cookie_header_is_the_standard_jars(
    pool: list[str], first: list[Cookie], steps: list[tuple[Any, ...]]
) -> None:
    """Setting, clearing and expiring cookies between requests to other schemes, hosts, ports
    and paths: the run's client sends what the standard jar, asked every time, sends."""
    now = [1_000.0]
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(time, "time", lambda: now[0])
        remembering, asking = new_client(verify_tls=True), new_client(verify_tls=True)
        asking.cookies.jar = CookieJar()  # not a RunJar: asked every time
        assert isinstance(remembering.cookies.jar, RunJar)
        for action, *args in [*(("set", cookie) for cookie in first), *steps]:
            if action == "set":
                for client in (remembering, asking):
                    client.cookies.jar.set_cookie(copy.copy(args[0]))
            elif action == "clear":
                for client in (remembering, asking):
                    if args[0] is None or args[0] in client.cookies.jar._cookies:  # type: ignore[attr-defined]
                        client.cookies.jar.clear(*[a for a in args if a is not None])
            elif action == "wait":
                now[0] += args[0]
            else:
                url, own = pool[args[0]], args[1]
                headers = {"Cookie": "mine=1"} if own else {}
                sent = [
                    c.build_request("GET", url, headers=headers).headers.get_list("cookie")
                    for c in (remembering, asking)
                ]
                assert sent[0] == sent[1], url
                kept = [
                    sorted((c.domain, c.path, c.name) for c in x.cookies.jar)
                    for x in (remembering, asking)
                ]
                assert kept[0] == kept[1]
        for client in (remembering, asking):
            client.close()


def test_the_header_is_forgotten_when_a_cookie_changes_or_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    client = new_client(verify_tls=True)
    jar = client.cookies.jar
    assert isinstance(jar, RunJar)
    url = "http://example.com/carts/1"

    def sent() -> str | None:
        return client.build_request("GET", url).headers.get("cookie")

    jar.set_cookie(_cookie("a", "example.com", "/", False, None, 1_010))
    assert sent() == "a=v-a"
    assert len(jar._headers) == 1  # remembered
    jar.set_cookie(_cookie("b", "example.com", "/carts", False, None, None))
    assert sent() == "b=v-b; a=v-a"
    now[0] = 1_010.0  # a expires
    assert sent() == "b=v-b"
    assert [c.name for c in jar] == ["b"]  # dropped, as the standard jar drops it
    jar.set_cookie(_cookie("c", "example.com", "/carts", False, None, None))
    assert sent() == "b=v-b; c=v-c"
    jar.clear("example.com", "/carts", "b")  # the same domains and paths, one cookie fewer
    assert sent() == "c=v-c"
    client.cookies.clear()
    assert sent() is None


@pytest.mark.parametrize(
    ("cookie", "urls"),
    [
        # The scheme (a secure cookie), the port, the host and the path: each is in the key.
        (("example.com", "/", True, None), ["https://example.com/a", "http://example.com/a"]),
        (("example.com", "/", False, "8443"), ["http://example.com:8443/", "http://example.com/"]),
        (("api.example.com", "/", False, None), ["http://api.example.com/", "http://example.com/"]),
        (("example.com", "/api", False, None), ["http://example.com/api/1", "http://example.com/"]),
        (
            ("example.com", "/api/", False, None),
            ["http://example.com/api/1", "http://example.com/apiary"],
        ),
        (("example.com", "/", False, None), ["http://example.com/", "http://user:pw@example.com/"]),
    ],
)
def test_a_remembered_header_goes_only_where_the_standard_jar_sends_it(
    cookie: tuple[Any, ...], urls: list[str]
) -> None:
    remembering, asking = new_client(verify_tls=True), new_client(verify_tls=True)
    asking.cookies.jar = CookieJar()
    for client in (remembering, asking):
        client.cookies.jar.set_cookie(_cookie("a", *cookie, None))
    for url in [*urls, *urls]:
        sent = [c.build_request("GET", url).headers.get("cookie") for c in (remembering, asking)]
        assert sent[0] == sent[1], url
    assert remembering.build_request("GET", urls[0]).headers.get("cookie") == "a=v-a"
    assert remembering.build_request("GET", urls[1]).headers.get("cookie") is None
