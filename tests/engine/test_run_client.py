"""`RunClient`'s shortcuts give what httpx gives for the same call: `send`'s one-hop path
(`Client.send`) and `build_request`'s one header list (`Client.build_request`)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.http import RunClient, RunCookies


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/redirect/"):
        status = int(path.rsplit("/", 1)[1])
        return httpx.Response(status, headers={"Location": "/landing?x=1"})
    if path == "/away":
        return httpx.Response(302, headers={"Location": "https://other.test:8443/there"})
    if path == "/cookie":
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, text="set")
    seen = {
        "method": request.method,
        "authorization": request.headers.get("authorization"),
        "cookie": request.headers.get("cookie"),
        "body": request.content.decode(),
    }
    return httpx.Response(200, json=seen)


def _clients(**kwargs: object) -> tuple[httpx.Client, httpx.Client]:
    """A RunClient and a stock httpx client, each with a run jar, over the same answers."""
    ours = RunClient(transport=httpx.MockTransport(_answer), **kwargs)  # type: ignore[arg-type]
    stock = httpx.Client(transport=httpx.MockTransport(_answer), **kwargs)  # type: ignore[arg-type]
    ours._cookies = RunCookies()
    stock._cookies = RunCookies()
    return ours, stock


def _seen(client: httpx.Client, request: httpx.Request) -> dict[str, object]:
    response = client.send(request, stream=True, follow_redirects=False)
    try:
        response.read()
    finally:
        response.close()
    following = response.next_request
    return {
        "status": response.status_code,
        "headers": list(response.headers.multi_items()),
        "body": response.content,
        "history": response.history,
        "url": str(response.url),
        "timeout": response.request.extensions.get("timeout"),
        "next": None
        if following is None
        else (
            following.method,
            str(following.url),
            list(following.headers.multi_items()),
            following.read(),
        ),
        "cookies": sorted((c.domain, c.path, c.name, c.value) for c in client.cookies.jar),
    }


PATHS = ["/plain", "/cookie", "/away", *(f"/redirect/{s}" for s in (301, 302, 303, 307, 308))]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.sampled_from(["GET", "POST", "PUT"]),
            st.sampled_from(["", "", "user:pw@", "user@", ":pw@"]),
            st.sampled_from([b"", b"payload", "ünï".encode()]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_one_hop_sends_as_httpx_does(calls: list[tuple[str, str, str, bytes]]) -> None:
    """Status, headers, body, history, the redirect's next request (method, URL, headers and
    body), the timeout, Basic auth from user info and the cookies kept: the same, call after
    call (the first send of a client, the ones after it)."""
    ours, stock = _clients(timeout=3.5)
    with ours, stock:
        for path, method, userinfo, body in calls:
            url = f"http://{userinfo}shop.test{path}"
            got = _seen(ours, ours.build_request(method, url, content=body or None))
            want = _seen(stock, stock.build_request(method, url, content=body or None))
            assert got == want


def test_the_clients_own_auth_and_hooks_still_apply() -> None:
    hooked: list[str] = []
    ours, stock = _clients(
        auth=("ann", "secret"),
        event_hooks={"request": [lambda request: hooked.append(str(request.url))]},
    )
    with ours, stock:
        for _ in range(2):
            got = _seen(ours, ours.build_request("GET", "http://shop.test/plain"))
            want = _seen(stock, stock.build_request("GET", "http://shop.test/plain"))
            assert got == want
            assert b"Basic " in got["body"]  # type: ignore[operator]
    assert hooked == ["http://shop.test/plain"] * 4


def test_a_closed_client_refuses_to_send() -> None:
    ours, _ = _clients()
    with ours:
        ours.send(ours.build_request("GET", "http://shop.test/plain"), stream=True).close()
    with pytest.raises(RuntimeError, match="closed"):
        ours.send(ours.build_request("GET", "http://shop.test/plain"), stream=True)


def test_transport_errors_name_their_request() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = RunClient(transport=httpx.MockTransport(fail))
    with client:
        for _ in range(2):  # the first send and the ones after it
            request = client.build_request("GET", "http://shop.test/plain")
            with pytest.raises(httpx.ConnectError) as caught:
                client.send(request, stream=True, follow_redirects=False)
            assert caught.value.request is request


HEADER_NAMES = ["Accept", "accept", "User-Agent", "user-agent", "X-Key", "x-KEY", "Host", "Cookie"]


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "post", "PUT", "DELETE"]),
    url=st.sampled_from(["http://shop.test/a?b=1", "https://u:p@shop.test:8443/", "/relative"]),
    headers=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(HEADER_NAMES), st.sampled_from(["Ünï", "X-Å"])),
            st.sampled_from(["v", "", "ünï", "a, b"]),
        ),
        max_size=5,
    ),
    content=st.sampled_from([None, b"", b"body"]),
    timeout=st.sampled_from([None, 2.5, httpx.Timeout(1.0, connect=0.5)]),
)
def test_requests_are_built_as_httpx_builds_them(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: bytes | None,
    timeout: object,
) -> None:
    """Headers (the client's ones the step does not name, then the step's, repeats and case
    kept), method, URL, body and timeout: as `Client.build_request` gives them, for the
    engine's (bytes, bytes) pairs, and for any other call (which goes httpx's way)."""
    ours = RunClient(headers={"User-Agent": "reqflo", "X-Key": "client"})
    stock = httpx.Client(headers={"User-Agent": "reqflo", "X-Key": "client"})
    target: httpx.URL | str = httpx.URL(url) if url.startswith("http") else url
    pairs = [(k.encode(), v.encode()) for k, v in headers]
    kwargs = {} if timeout is None else {"timeout": timeout}

    def built(client: httpx.Client, given: object) -> object:
        try:
            request = client.build_request(
                method, target, headers=given, content=content or None, **kwargs
            )
        except Exception as exc:  # the same error, or the same request
            return type(exc)
        return (
            request.method,
            str(request.url),
            request.headers.raw,
            request.read(),
            request.extensions,
        )

    with ours, stock:
        for given in (pairs, headers, dict(headers)):
            assert built(ours, given) == built(stock, given)
