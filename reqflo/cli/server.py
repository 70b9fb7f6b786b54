"""The CLI's connection to a Reqflo server: where it is, the token, and retried JSON requests.

The server and token come from ``REQFLO_URL`` and ``REQFLO_TOKEN``, else from the file
``reqflo login`` writes (``$XDG_CONFIG_HOME/reqflo/credentials.json``, mode 0600). Requests
are retried with exponential backoff on connection errors and 5xx answers; a request that
creates something carries an ``Idempotency-Key`` so its retries create it once. The token is
sent in the ``Authorization`` header only: it is never printed, and errors never quote it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqflo import __version__
from reqflo.cli.errors import CliError, ExitCode

API_PREFIX = "/api/v1"
RETRIES = 4
BACKOFF_SECONDS = 0.5
TIMEOUT_SECONDS = 60.0


def credentials_path(environ: Mapping[str, str]) -> Path:
    """Return where ``reqflo login`` keeps the server and token for this user."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "reqflo" / "credentials.json"


def save_credentials(environ: Mapping[str, str], *, url: str, token: str) -> Path:
    """Write the server and token to the user's config file, readable by the user only."""
    path = credentials_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"url": url, "token": token}, file)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


def server_url(url: str, *, source: str) -> str:
    """Return the server's base URL from ``source`` (``REQFLO_URL``, ``--url``, the login file).

    Only ``http``/``https`` with a host. A user name or password in it (``https://user:pass@
    host``) is refused, naming the URL without them: the token is the only credential, and the
    URL is printed in messages, where a password must never appear.
    """
    from urllib.parse import urlsplit

    from reqflo.engine.egress import url_port

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        raise CliError(f"{source} is not a URL", exit_code=ExitCode.SERVER) from None
    try:
        url_port(parts)
    except ValueError as exc:
        raise CliError(f"{source}: {exc}", exit_code=ExitCode.SERVER) from None
    if "@" in parts.netloc:
        shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        raise CliError(
            f"{source} may not carry a user name or password ({shown} without them): "
            "the API token goes in REQFLO_TOKEN",
            exit_code=ExitCode.SERVER,
        )
    if parts.scheme not in ("http", "https") or not host:
        raise CliError(
            f"{source} must be an http:// or https:// URL with a host, like https://reqflo.example",
            exit_code=ExitCode.SERVER,
        )
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class ServerConfig:
    url: str
    token: str

    def __post_init__(self) -> None:
        # Every way in (the variables, the login file, ``reqflo login --url``) is checked here.
        object.__setattr__(self, "url", server_url(self.url, source="the server URL"))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, what: str) -> ServerConfig:
        """Read ``REQFLO_URL``/``REQFLO_TOKEN``, else the login file; exit 3 when neither is set."""
        url, token = environ.get("REQFLO_URL", ""), environ.get("REQFLO_TOKEN", "")
        if url:
            url = server_url(url, source="REQFLO_URL")
        if not (url and token):
            path = credentials_path(environ)
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                url, token = url or str(saved.get("url", "")), token or str(saved.get("token", ""))
            except (OSError, ValueError, AttributeError):
                pass
        if not url or not token:
            raise CliError(
                f"{what} needs a Reqflo server: set REQFLO_URL and REQFLO_TOKEN, or run "
                "'reqflo login' (create a token on the server's API tokens page)",
                exit_code=ExitCode.SERVER,
            )
        return cls(url=url.rstrip("/"), token=token)


class ServerError(CliError):
    """The server refused or failed; ``code`` is the API's error code ("" when it had none)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "", body: Any = None) -> None:
        super().__init__(message, exit_code=ExitCode.SERVER)
        self.status = status
        self.code = code
        self.body = body


class Server:
    """JSON requests to one server, retried on connection errors and 5xx answers."""

    def __init__(self, config: ServerConfig, *, trigger: str = "cli") -> None:
        import httpx

        self.config = config
        self._client = httpx.Client(
            base_url=config.url + API_PREFIX,
            headers={
                "Authorization": f"Bearer {config.token}",
                "User-Agent": f"reqflo/{__version__}",
                "X-Reqflo-Trigger": trigger,
            },
            timeout=TIMEOUT_SECONDS,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, *, idempotency_key: str = "") -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, json=body or {}, headers=headers)

    def text(self, path: str, **params: Any) -> str:
        return str(self.request("GET", path, params=params, raw=True))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
        retries: int = RETRIES,
    ) -> Any:
        """Send one request, retrying connection errors and 5xx ``retries`` times; raise
        ``ServerError``."""
        import httpx

        from reqflo.engine import numbers

        where = f"{self.config.url}{API_PREFIX}{path}"
        # Written by the engine's encoder, not httpx's: a Decimal (an exact decimal from a data
        # file or --set) goes as the JSON number it is, every digit kept.
        content = None if json is None else numbers.dumps(json).encode()
        if content is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                response = self._client.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if last:
                    raise ServerError(
                        f"cannot reach the Reqflo server at {self.config.url} "
                        f"({type(exc).__name__}) after {retries + 1} attempt(s)"
                    ) from None
            else:
                if response.status_code < 500 or last:
                    return self._answer(response, where, raw=raw)
            time.sleep(BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, response: Any, where: str, *, raw: bool) -> Any:
        from reqflo.engine import numbers

        if response.status_code < 400:
            if raw:
                return response.text
            try:
                return numbers.loads(response.content)  # exact numbers
            except ValueError:
                # A page that is not the API's (a proxy's login page, another service).
                raise ServerError(
                    f"the answer of {where} ({response.status_code}) was not the Reqflo API's "
                    "JSON: is REQFLO_URL the server's address?",
                    status=response.status_code,
                ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "code" in body:
            message = str(body.get("message", ""))
            issues = body.get("issues") or []
            details = "".join(
                f"\n  {i.get('path') or '-'}: {i.get('message')}"
                for i in issues
                if isinstance(i, dict) and i.get("path")
            )
            raise ServerError(
                f"{message}{details}",
                status=response.status_code,
                code=str(body["code"]),
                body=body,
            )
        raise ServerError(
            f"the server answered {response.status_code} to {where}", status=response.status_code
        )
