"""Send one request with httpx and read the response within fixed memory and time bounds.

Bodies are streamed: at most `max_bytes` are kept in memory while the true size is still
counted, so a 50 MB download costs at most the cap. Transport failures come back as StepError
values with a kind; nothing raised by httpx escapes.
"""

from __future__ import annotations

import codecs
import http.cookiejar
import logging
import math
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from reqflo.engine import numbers
from reqflo.engine.deadline import enforce_deadlines, exchange_deadline
from reqflo.engine.decoding import BodyError, ContentDecoder
from reqflo.engine.depth import TooDeep, loads_data
from reqflo.engine.jsonpaths import Query
from reqflo.engine.redaction import CUT_MARK, SENSITIVE_HEADERS, cut_text
from reqflo.engine.results import RedirectRecord, StepError
from reqflo.engine.tls import ssl_context

# Above this size a singular JSONPath is found by scanning the body instead of parsing it into
# Python objects, which cost several times the body's size (see json_stream).
STREAM_JSON_ABOVE = 4 * 1024 * 1024

_UNKNOWN: Any = object()

# httpx logs every request URL at INFO, unredacted: a secret in a query string would reach the
# application's logs. The engine records requests itself, redacted.
logging.getLogger("httpx").setLevel(logging.WARNING)


class BodyUnavailable(ValueError):
    """The body cannot be used (too large for memory, or not JSON); the message says why.

    `reason` is "body_not_json", "body_too_deep" or "body_unavailable" (see
    results.NO_VALUE_REASONS).
    """

    def __init__(self, message: str, reason: str = "body_unavailable") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class Exchange:
    """A received response; `body` holds at most the memory cap, `complete` says if it is all."""

    status: int
    reason: str
    http_version: str
    headers: httpx.Headers
    body: bytes | bytearray
    body_size: int
    complete: bool
    elapsed_ms: float
    redirects: list[RedirectRecord]
    response: httpx.Response
    charset: str | None
    notes: list[str] = field(default_factory=list)
    _json: Any = field(default=None)
    _json_error: str | None = field(default=None)
    _json_reason: str = field(default="body_unavailable")
    _json_done: bool = field(default=False)
    _text: str | None = field(default=None)
    _header_map: dict[str, str] | None = field(default=None)

    def header_map(self) -> dict[str, str]:
        """Return the headers in their original case, repeated ones joined (computed once)."""
        if self._header_map is None:
            self._header_map = join_headers(self.headers)
        return self._header_map

    def _require_complete(self) -> None:
        if not self.complete:
            raise BodyUnavailable(
                f"the response body ({self.body_size} bytes) is larger than the in-memory limit"
            )

    def cookie(self, name: str) -> str | None:
        """Return a cookie this response set (parsed on demand: it costs on every response)."""
        return self.response.cookies.get(name)

    def json(self) -> Any:
        """Return the parsed JSON body (parsed once); raise BodyUnavailable if it is not JSON."""
        if not self._json_done:
            self._json_done = True
            try:
                self._require_complete()
                self._json = loads_data(self.body, "the response body", numbers.loads)
            except BodyUnavailable as exc:
                self._json_error = str(exc)
            except TooDeep as exc:
                self._json_error = str(exc)
                self._json_reason = "body_too_deep"
            except ValueError as exc:
                self._json_error = f"the response body is not JSON ({exc})"
                self._json_reason = "body_not_json"
        if self._json_error:
            raise BodyUnavailable(self._json_error, self._json_reason)
        return self._json

    def find(self, query: Query) -> list[Any]:
        """Return the values the JSONPath selects in the body; raise BodyUnavailable if none."""
        steps = query.steps
        if not self._json_done and steps is not None and len(self.body) > STREAM_JSON_ABOVE:
            # Imported here: only bodies above 4 MiB are scanned (ijson stays unloaded).
            from reqflo.engine.json_stream import StreamError, can_stream, find_singular

            if can_stream(steps):
                self._require_complete()
                try:
                    return find_singular(self.body, steps)
                except TooDeep as exc:
                    raise BodyUnavailable(str(exc), "body_too_deep") from None
                except StreamError:
                    # Not JSON, or JSON the scanner cannot read: the full parse decides, with
                    # the same message as for a small body.
                    pass
        return query.findall(self.json())

    def contains(self, needle: str) -> bool:
        """Search the body; UTF-8 bodies are searched as bytes, without a full text copy."""
        self._require_complete()
        if self._text is None and (self.charset or "utf-8").lower().replace("_", "-") in (
            "utf-8",
            "utf8",
        ):
            return needle.encode() in self.body
        return needle in self.text()

    def preview(self, chars: int) -> str:
        """Return the body's first characters; a cut is marked with "…" (the redactor's mark)."""
        text = decode_text(self.body[: chars * 4], self.charset, final=False)[0]
        if len(text) > chars or self.body_size > chars * 4:
            return cut_text(text, chars) + CUT_MARK
        return text

    def text(self) -> str:
        """Return the whole body as text, invalid bytes replaced."""
        if self._text is None:
            self._require_complete()
            self._text, _ = decode_text(self.body, self.charset, final=True)
        return self._text


_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """Return the charset parameter of a Content-Type (httpx's parser costs ~15 µs a call)."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


def join_headers(headers: httpx.Headers) -> dict[str, str]:
    """Return headers with their original name case; repeated ones joined with ", "."""
    joined: dict[str, str] = {}
    encoding = headers.encoding
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode(encoding), raw_value.decode(encoding)
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def decode_text(data: bytes | bytearray, charset: str | None, *, final: bool) -> tuple[str, str]:
    """Decode with the declared charset (UTF-8 by default); note replacements in the name.

    With final=False a multi-byte character cut by a size limit is dropped, not flagged.
    """
    if final and (charset is None or charset.lower() in ("utf-8", "utf8")):
        try:
            return data.decode(), "utf-8"  # the common case, without an incremental decoder
        except UnicodeDecodeError:
            pass
    encoding = charset or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=final), encoding
    except UnicodeDecodeError:
        return data.decode(encoding, "replace"), f"{encoding} (invalid bytes replaced)"


class RunJar(http.cookiejar.CookieJar):
    """The standard cookie jar, which remembers the Cookie header it worked out for a request.

    `http.cookiejar` decides which cookies go with a request by asking its policy about every
    domain, path and cookie in the jar, parsing the request URL again for each question: about
    an eighth of the engine's instructions per request once a run holds a cookie (issue 17).
    The answer depends only on the cookies, the time (a cookie expires) and what the policy reads
    of the request: its scheme (`request.type`: secure cookies), its host (`request_host`:
    domains), its host with the port (`request.host`: ports) and which of the jar's paths match
    its path. `cookie_header` takes those as the key and gives the header worked out once
    again, until a cookie is set or cleared (each forgets every header) or the first expiry
    among the cookies comes. The first three are a function of the URL up to its path, worked
    out once per such origin; a path of "/" matches every request path (`request_path` always
    starts with "/"), so only other paths are matched per request.

    Only for the standard policy, as configured by default (without RFC 2965, which adds a
    Cookie2 header, and its flags left as they are): any other is asked every time. Cookies are
    changed through the jar's methods only (`set_cookie`, `clear`), as httpx and the engine do;
    a `Cookie` object changed in place would not be seen.
    """

    # Set by CookieJar.__init__ (not in its stubs).
    _policy: http.cookiejar.CookiePolicy
    _cookies: dict[str, dict[str, dict[str, http.cookiejar.Cookie]]]
    _cookies_lock: Any

    def __init__(self) -> None:
        super().__init__()
        self._headers: dict[tuple[Any, ...], str | None] = {}
        self._fresh_until = math.inf  # the first expiry among the cookies when remembered
        self._origins: dict[str, tuple[Any, ...]] = {}

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        with self._cookies_lock:
            self._headers.clear()
            super().set_cookie(cookie)

    def clear(
        self, domain: str | None = None, path: str | None = None, name: str | None = None
    ) -> None:
        with self._cookies_lock:
            self._headers.clear()
            super().clear(domain, path, name)

    def remembers(self) -> bool:
        """Whether `cookie_header` may be used: the standard policy, without RFC 2965."""
        policy = self._policy
        return type(policy) is http.cookiejar.DefaultCookiePolicy and not policy.rfc2965

    def cookie_header(self, url: str, view: Callable[[], _JarRequest]) -> str | None:
        """Return the Cookie header `add_cookie_header` gives a request to `url`, or None.

        `view()` returns the request as a `_JarRequest` that asks (made only when the policy
        must see it). The jar is left as `add_cookie_header` leaves it (expired cookies
        dropped). Only when `remembers()`.
        """
        with self._cookies_lock:
            if time.time() >= self._fresh_until:
                self._headers.clear()
            request: _JarRequest | None = None
            part = _origin_part(url)
            origin = self._origins.get(part) if part else None
            if origin is None:
                request = view()
                origin = (
                    request.type,
                    http.cookiejar.request_host(request),  # type: ignore[attr-defined]
                    request.host,
                )
                if part and origin[1] and len(self._origins) < 64:
                    self._origins[part] = origin
            matches = []
            for paths in self._cookies.values():
                for path in paths:
                    if path == "/":
                        matches.append(True)
                    else:
                        request = request or view()
                        matches.append(self._policy.path_return_ok(path, request))
            key = (*origin, *matches)
            header: str | None = self._headers.get(key, _UNKNOWN)
            if header is _UNKNOWN:
                if not self._headers:
                    self._fresh_until = min(
                        (c.expires for c in self if c.expires is not None), default=math.inf
                    )
                request = request or view()
                self.add_cookie_header(request)  # drops expired cookies (forgetting headers)
                header = self._headers[key] = request.answer
            return header


def _origin_part(url: str) -> str | None:
    """Return an http(s) URL up to its path, query or fragment, or None for another URL.

    urllib reads the scheme, the host and the port from this part only (its netloc ends at
    the first "/", "?" or "#" after the "//").
    """
    if not url.startswith(("http://", "https://")):
        return None
    start = url.index("//") + 2
    ends = [found for found in map(url.find, "/?#", (start,) * 3) if found >= 0]
    return url[: min(ends)] if ends else url


class RunCookies(httpx.Cookies):
    """A run's cookie jar (a `RunJar`) that reads a response only when it sets a cookie.

    httpx hands every response to `http.cookiejar` through urllib compatibility objects
    (~15 µs, the larger part of it parsing the request URL again), although most responses set
    no cookie. The jar's default policy reads `Set-Cookie` (and `Set-Cookie2` only under RFC
    2965, off by default): a response with neither leaves the jar as it was.
    """

    def __init__(self) -> None:
        super().__init__(RunJar())

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)

    def set_cookie_header(self, request: httpx.Request) -> None:
        """Set the Cookie header from the jar, as httpx does, through a lighter request view
        (the header remembered by a `RunJar`); a Cookie header the request has wins."""
        jar = self.jar
        if not isinstance(jar, RunJar) or not jar.remembers():
            jar.add_cookie_header(_JarRequest(request))
            return
        header = jar.cookie_header(str(request.url), lambda: _JarRequest(request, asking=True))
        if header is not None and "Cookie" not in request.headers:
            request.headers["Cookie"] = header


class _JarRequest(urllib.request.Request):
    """What `http.cookiejar` reads of a request, without copying its headers.

    httpx's compatibility request copies every header into a `urllib.request.Request` (and
    works out an origin host the jar reads only for unverifiable requests, which these never
    are): about half of the cost of a Cookie header (~6% of the engine's time per request once
    a run holds a cookie). The URL is parsed by urllib itself, as there (scheme, host, port and
    path decide which cookies go); the header questions are asked of the request's own
    headers, which are case-insensitive as urllib's capitalised names are.
    """

    def __init__(self, request: httpx.Request, *, asking: bool = False) -> None:
        # Not super().__init__: no header copy, no origin host; the attributes it sets.
        # Asking: the jar's Cookie header is kept in `answer`, as if the request had none.
        self.asking = asking
        self.answer: str | None = None
        self.full_url = str(request.url)
        self.headers: dict[str, str] = {}
        self.unredirected_hdrs: dict[str, str] = {}
        self._data = None
        self._tunnel_host = None
        self.unverifiable = False
        self.method = request.method
        self.request = request

    @property
    def origin_req_host(self) -> str:  # type: ignore[override]
        """The request's own host (read by the jar only for unverifiable requests)."""
        host: str = getattr(urllib.request, "request_host")(self)  # noqa: B009 (not in stubs)
        return host

    def has_header(self, header_name: str) -> bool:
        if self.asking and header_name.lower() == "cookie":
            return False
        return header_name in self.request.headers

    def get_header(self, header_name: str, default: Any = None) -> Any:
        return self.request.headers.get(header_name, default)

    def add_unredirected_header(self, key: str, val: str) -> None:
        if self.asking:
            if key.lower() == "cookie":
                self.answer = val
            return
        self.request.headers[key] = val


class RunClient(httpx.Client):
    """A run's client: the Cookie header comes from the run's jar itself, not from two copies.

    httpx copies the client's jar for every request that could carry a cookie (`_merge_cookies`)
    and `httpx.Request` copies that copy again before asking `http.cookiejar` for the header:
    two jar copies per request once a run holds a cookie (~6% of the engine's time per request
    after a login). The engine passes no per-request cookies, so the header is asked of the
    run's jar directly, by the same `http.cookiejar` policy, after the request is built (as
    `httpx.Request` does: a Cookie header set by the step wins). Redirects keep httpx's path.
    The one difference: the policy drops expired cookies from the run's jar instead of from a
    copy; they were never sent either way.
    """

    def _merge_cookies(self, cookies: httpx._types.CookieTypes | None = None) -> None:
        if cookies:
            raise TypeError("a run sends the cookies of its own jar only")

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        headers: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        **kwargs: Any,
    ) -> httpx.Request:
        if kwargs or type(url) is not httpx.URL or url.is_relative_url or not _raw_ascii(headers):
            request = super().build_request(
                method, url, content=content, headers=headers, timeout=timeout, **kwargs
            )
        else:
            # What `Client.build_request` comes to for an absolute URL and headers given as
            # (bytes, bytes) pairs with ASCII names (the engine's): the client's headers that
            # the step does not name (`Headers.update`: case-insensitive, every repeat), then
            # the step's, in order; the timeout as an extension. One header list instead of
            # three `Headers` built and searched name by name.
            named = {name.lower() for name, _ in headers}
            merged = [(k, v) for k, lower, v in self._headers._list if lower not in named]
            merged += headers
            chosen = self.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)
            request = httpx.Request(
                method,
                url,
                content=content,
                headers=merged,
                extensions={"timeout": chosen.as_dict()},
            )
        if self._cookies:
            self._cookies.set_cookie_header(request)
        return request

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send one hop as `Client.send(request, stream=True, follow_redirects=False)` does,
        without the machinery that has nothing to do for it (the engine's one call, `_perform`).

        With no auth (none given, none on the client, no user info in the URL: httpx's `Auth()`
        then yields the request once and ends), no event hooks and no redirect followed, httpx's
        send comes to: the timeout set, one `_send_single_request` (transport, elapsed time,
        cookies from the response, the log line), an empty history and, for a redirect, the
        `next_request` it built. That is what this does, in that order, without the auth flow's
        generator and the two loops around it. Any other call goes httpx's way.
        """
        if (
            stream is not True
            or follow_redirects is not False
            or auth is not httpx.USE_CLIENT_DEFAULT
            or self._auth is not None
            or self._state is not _CLIENT_OPENED
            or self._event_hooks["request"]
            or self._event_hooks["response"]
            or request.url.userinfo
        ):
            return super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        self._set_timeout(request)
        response = self._send_single_request(request)
        try:
            response.history = []
            if response.has_redirect_location:
                response.next_request = self._build_redirect_request(request, response)
        except BaseException:
            response.close()
            raise
        return response

    def _send_single_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's own (0.28.1), with a `try` in place of its `request_context` (a
        generator-based context manager that names the request in a transport error)."""
        transport = self._transport_for_url(request.url)
        start = time.perf_counter()
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise RuntimeError("Attempted to send an async request with a sync Client instance.")
        try:
            response = transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.request = request
        response.stream = _BoundSyncStream(response.stream, response=response, start=start)
        self.cookies.extract_cookies(response)
        response.default_encoding = self._default_encoding
        _HTTPX_LOG.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
        return response


def _raw_ascii(headers: Any) -> bool:
    """Whether `headers` is a list of (bytes, bytes) pairs whose names are ASCII."""
    if type(headers) is not list:
        return False
    for pair in headers:
        if type(pair) is not tuple or len(pair) != 2:
            return False
        name, value = pair
        if type(name) is not bytes or type(value) is not bytes or not name.isascii():
            return False
    return True


_BoundSyncStream = httpx._client.BoundSyncStream
_HTTPX_LOG = logging.getLogger("httpx")
# A client that has sent before (httpx's first send moves it from UNOPENED; a closed one raises).
_CLIENT_OPENED = httpx._client.ClientState.OPENED


def new_client(*, verify_tls: bool, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """Return a client for runs; its requests honour each step's deadline (see `deadline`)."""
    client = RunClient(
        verify=ssl_context(verify_tls),
        transport=transport,
        headers={"User-Agent": "reqflo"},
        trust_env=False,
    )
    # Set after construction: httpx copies a jar given to Client(cookies=...) into its own class.
    client._cookies = RunCookies()
    enforce_deadlines(client)
    return client


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# h11 quotes the bytes it could not parse as Python reprs (`bytearray(b'zz\\r\\n')`).
_BYTES_REPR = re.compile(r"""(?:bytearray\()?\bb(['"])((?:\\.|(?!\1).)*)\1\)?""")


def _quoted_bytes(match: re.Match[str]) -> str:
    return f'"{match.group(2)}"'


def classify(exc: Exception, *, reading: bool, timeout_ms: float) -> StepError:
    """Name the kind of a transport failure in words a user understands."""
    detail = _BYTES_REPR.sub(_quoted_bytes, str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        if reading:
            return StepError("timeout", f"the response was not complete within {timeout_ms:g} ms")
        return StepError("timeout", f"no response within {timeout_ms:g} ms ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, socket.gaierror) or "name resolution" in detail.lower():
            return StepError("dns", f"could not resolve the host: {detail}")
        if _caused_by(exc, ssl.SSLError) or "ssl" in detail.lower():
            return StepError("tls", f"TLS handshake failed: {detail}")
        return StepError("connect", f"could not connect: {detail}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return StepError("invalid_request", f"the request cannot be sent: {detail}")
    if isinstance(exc, httpx.TooManyRedirects):
        return StepError("protocol", f"too many redirects: {detail}")
    if reading and isinstance(exc, httpx.RemoteProtocolError):
        if "complete message body" in detail or "incomplete" in detail:
            return StepError(
                "incomplete_body",
                f"the response body is incomplete: the connection closed before its end ({detail})",
            )
        return StepError("invalid_body", f"the response body's framing is invalid: {detail}")
    if reading or isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return StepError("read", f"the connection failed while reading the response: {detail}")
    if isinstance(exc, httpx.HTTPError):
        return StepError("protocol", f"invalid HTTP exchange: {detail}")
    return StepError("invalid_request", f"the request cannot be sent: {detail}")


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Return (scheme, host, port) with the scheme's default port filled in."""
    port = url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def strip_for_redirect(
    request: httpx.Request, first: httpx.Request, carries_secret: Callable[[str], bool] | None
) -> list[str]:
    """Remove credentials from a redirect request that leaves the first request's origin.

    httpx drops only `Authorization` (and rebuilds `Cookie` from the cookie jar, which keeps
    cookies to their own domain); like browsers and curl, the engine also drops
    `Proxy-Authorization`, `X-Api-Key` and every header whose value holds a secret. Returns the
    names of the headers the hop goes without.
    """
    if origin(request.url) == origin(first.url):
        return []
    dropped: list[str] = []
    for raw_name, raw_value in list(request.headers.raw):
        name = raw_name.decode("latin-1")
        lower = name.lower()
        if lower in ("cookie", "host"):
            continue
        if lower in SENSITIVE_HEADERS or (
            carries_secret is not None and carries_secret(raw_value.decode("utf-8", "replace"))
        ):
            dropped.append(name)
    for name in dropped:
        del request.headers[name]
    # What httpx itself left out: `Authorization`, and a `Cookie` header the step set (the
    # jar's cookies for the new origin, if any, are the jar's own).
    for name in ("Cookie", "Authorization"):
        if (
            name in first.headers
            and name not in request.headers
            and not any(each.lower() == name.lower() for each in dropped)
        ):
            dropped.insert(0, name)
    return dropped


# What describes a request body rather than the request: Fetch's request-body-header names
# and the framing headers (httpx drops only the framing ones).
BODY_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Content-Length",
    "Transfer-Encoding",
)


def drop_body_headers(following: httpx.Request, previous: httpx.Request) -> None:
    """Remove the body's headers from a redirect hop that no longer sends the body.

    httpx turns a 302 or 303 (any method but HEAD) and a 301 after a POST into a GET without
    a body, to the same origin or another, but keeps `Content-Type`, `Content-Encoding` and the
    like: the target would read a GET announcing a body it does not have. Browsers (Fetch's
    HTTP-redirect fetch) drop them; so does the engine. A 307 or 308 keeps the method, the body
    and its headers.
    """
    if following.method == previous.method:
        return
    for name in BODY_HEADERS:
        following.headers.pop(name, None)


def refuse_secret_body(
    status: int,
    following: httpx.Request,
    first: httpx.Request,
    carries_secret: Callable[[str], bool] | None,
) -> StepError | None:
    """Return why a redirect is not followed, or None to follow it.

    A 307 or 308 sends the request body again. To another origin (scheme, host, port) it is
    not followed when that body holds a secret: a header can be left out, but a request without
    its body is another request. (301, 302 and 303 turn a POST into a GET without a body.)
    """
    if carries_secret is None or origin(following.url) == origin(first.url):
        return None
    # httpx keeps the body (the stream of the step's request) when it keeps the method.
    body = first.content if following.method == first.method else b""
    if not body or not carries_secret(body.decode("utf-8", "replace")):
        return None
    where = f"{following.url.scheme}://{following.url.netloc.decode('ascii')}"
    return StepError(
        "protocol",
        f"the {status} redirect to another origin ({where}) was not followed: it would send "
        "the request body again, and the body holds a secret",
    )


def perform(
    client: httpx.Client,
    request: httpx.Request,
    *,
    follow_redirects: bool,
    timeout_ms: float,
    max_bytes: int,
    carries_secret: Callable[[str], bool] | None = None,
) -> tuple[Exchange | None, StepError | None]:
    """Send and read within timeout_ms overall; return the exchange, an error, or both.

    Redirects are followed here, hop by hop, so that a hop to another origin loses its
    credentials (see `strip_for_redirect`) and each hop is recorded. `timeout_ms` is a
    wall-clock deadline for all of it, redirects, headers and body included (see `deadline`).
    """
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_ms / 1000
    with exchange_deadline(deadline):
        return _perform(
            client,
            request,
            follow_redirects=follow_redirects,
            timeout_ms=timeout_ms,
            max_bytes=max_bytes,
            carries_secret=carries_secret,
            started=started,
            deadline=deadline,
        )


def _raw_stream(response: httpx.Response) -> httpx.SyncByteStream:
    """Return the response's byte stream to read, marked as read, as `response.iter_raw()`
    marks it (the same checks first), without the generators around it.

    `iter_raw()` wraps each chunk in a generator, a chunker (which, without a chunk size, only
    leaves out empty chunks: the caller skips them) and a context manager that names the
    request in a transport error, which the engine turns into evidence without it."""
    if response.is_stream_consumed:
        raise httpx.StreamConsumed()
    if response.is_closed:
        raise httpx.StreamClosed()
    stream = response.stream
    if not isinstance(stream, httpx.SyncByteStream):
        raise RuntimeError("Attempted to call a sync iterator on an async stream.")
    response.is_stream_consumed = True
    return stream


def _close(response: httpx.Response) -> None:
    """`response.close()` (the stream closed once; httpx's bound stream sets `elapsed`),
    without the context manager that names the request in a transport error."""
    if not response.is_closed:
        response.is_closed = True
        try:
            response.stream.close()  # type: ignore[union-attr]
        except httpx.RequestError as exc:
            exc.request = response.request
            raise


def _perform(
    client: httpx.Client,
    request: httpx.Request,
    *,
    follow_redirects: bool,
    timeout_ms: float,
    max_bytes: int,
    carries_secret: Callable[[str], bool] | None,
    started: float,
    deadline: float,
) -> tuple[Exchange | None, StepError | None]:
    redirects: list[RedirectRecord] = []
    notes: list[str] = []
    current = request
    error: StepError | None = None
    try:
        while True:
            response = client.send(current, stream=True, follow_redirects=False)
            following = response.next_request if follow_redirects else None
            if following is None:
                break
            redirects.append(
                RedirectRecord(
                    status=response.status_code,
                    url=str(response.url),
                    location=response.headers.get("location", ""),
                )
            )
            error = refuse_secret_body(response.status_code, following, request, carries_secret)
            if error is not None:
                break  # the redirect response is the step's response, with the refusal
            try:
                for _ in () if response.is_stream_consumed else response.iter_raw():
                    if time.monotonic() > deadline:
                        break
            finally:
                response.close()
            if len(redirects) > client.max_redirects:
                return None, StepError(
                    "protocol", f"too many redirects (more than {client.max_redirects})"
                )
            dropped = strip_for_redirect(following, request, carries_secret)
            if dropped:
                notes.append(
                    f"redirect to another origin ({following.url.scheme}://"
                    f"{following.url.netloc.decode('ascii')}): not sending " + ", ".join(dropped)
                )
            drop_body_headers(following, current)
            current = following
    except Exception as exc:  # anything the transport raises becomes evidence, never a crash
        return None, classify(exc, reading=False, timeout_ms=timeout_ms)
    buffer = bytearray()
    size = 0
    chunks: Iterable[bytes]
    try:
        if response.is_stream_consumed:
            # A transport that built the response in memory (tests, the in-process benchmark):
            # httpx has already decoded the whole body.
            decoder, chunks = ContentDecoder(None), (response.content,)
        else:
            decoder = ContentDecoder(response.headers.get("content-encoding"))
            chunks = _raw_stream(response)
        for raw in chunks:
            if not raw:
                continue  # (as `iter_raw`, which yields no empty chunk)
            for chunk in decoder.feed(raw):
                size += len(chunk)
                room = max_bytes - len(buffer)
                if room > 0:
                    buffer += chunk[:room]
            if time.monotonic() > deadline:
                error = StepError(
                    "timeout", f"the response was not complete within {timeout_ms:g} ms"
                )
                break
        else:
            decoder.finish()
    except BodyError as exc:
        error = exc.error
    except Exception as exc:  # a connection closed mid-body must not escape either
        error = classify(exc, reading=True, timeout_ms=timeout_ms)
    finally:
        _close(response)
    exchange = Exchange(
        status=response.status_code,
        reason=response.reason_phrase,
        http_version=response.http_version,
        headers=response.headers,
        body=buffer,  # not bytes(buffer): that would copy up to max_bytes again
        body_size=size,
        complete=size <= max_bytes and error is None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        redirects=redirects,
        response=response,
        charset=charset_of(response.headers.get("content-type")),
        notes=notes,
    )
    return exchange, error
