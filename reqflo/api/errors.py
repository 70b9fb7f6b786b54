"""JSON errors of the API: every refusal is ``{"code": …, "message": …}`` with a fitting status.

``code`` is stable (clients branch on it); ``message`` is a sentence for people; ``issues``
lists path-precise problems (the engine's Run check and definition errors, request fields).
Codes: ``token_*`` (401, see ``reqflo.api.services.TokenRefused``), ``role_required`` (403),
``not_found`` (404), ``invalid_request`` and ``invalid_definition`` (400), ``run_check_failed``
(422), ``idempotency_conflict``, ``version_conflict`` and ``not_cancellable`` (409),
``rate_limited`` (429, with ``Retry-After``), ``server_error`` (500).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from reqflo.api.services import TokenRefused
from reqflo.engine import Issue

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with an HTTP status, a stable code, a message and optional issues."""

    def __init__(
        self, status: int, code: str, message: str, *, issues: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []


def issue_dicts(issues: list[Issue]) -> list[dict[str, Any]]:
    """Return engine issues as the API spells them (severity, code, path, message)."""
    return [
        {"severity": i.severity, "code": i.code, "path": i.path, "message": i.message}
        for i in issues
    ]


def _body(code: str, message: str, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if issues:
        body["issues"] = issues
    return body


def _request_issue(error: dict[str, Any]) -> dict[str, Any]:
    # ninja reports ("body", "payload", "inputs") — the client knows only the last parts.
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
    return {
        "path": ".".join(location),
        "code": error.get("type", "invalid"),
        "message": error.get("msg", ""),
    }


def install_handlers(api: NinjaAPI) -> None:
    """Register the handlers that turn every exception into the JSON error shape."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, _body(exc.code, exc.message, exc.issues))

    @api.exception_handler(TokenRefused)
    def token_refused(request: HttpRequest, exc: TokenRefused) -> HttpResponse:
        response = respond(request, 401, _body(exc.code, exc.message))
        response["WWW-Authenticate"] = 'Bearer realm="reqflo"'
        return response

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, _body("token_missing", "No API token was sent."))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = f" Retry after {int(exc.wait) + 1} s." if exc.wait else ""
        return respond(
            request, 429, _body("rate_limited", f"Too many requests for this token.{wait}")
        )

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        issues = [_request_issue(error) for error in exc.errors]
        where = ", ".join(i["path"] or "the request" for i in issues[:3])
        return respond(
            request, 400, _body("invalid_request", f"The request is not valid: {where}.", issues)
        )

    @api.exception_handler(DjangoValidationError)
    def django_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            issues = [
                {"path": field, "code": "invalid", "message": " ".join(messages)}
                for field, messages in exc.message_dict.items()
            ]
        else:
            issues = [{"path": "", "code": "invalid", "message": m} for m in exc.messages]
        message = "; ".join(
            f"{i['path']}: {i['message']}" if i["path"] else i["message"] for i in issues
        )
        return respond(request, 400, _body("invalid_request", message, issues))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, _body("not_found", str(exc) or "Not found."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return respond(request, exc.status_code, _body("http_error", str(exc)))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f" ({limit / 1_000_000:g} MB)" if limit else ""
        return respond(
            request,
            413,
            _body(
                "payload_too_large",
                f"The request body is larger than this server accepts{size}; "
                "see DATA_UPLOAD_MAX_MEMORY_SIZE in docs/deployment.md.",
            ),
        )

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        if _is_nul_refusal(exc):
            # PostgreSQL text cannot hold NUL (0x00): the request's fault, not the server's.
            return respond(
                request,
                400,
                _body("invalid_request", "Text in the request may not contain NUL (0x00)."),
            )
        # Logged with its traceback for the operator; the client gets no internals.
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(
            request, 500, _body("server_error", "The server failed to answer; it was logged.")
        )


def _is_nul_refusal(exc: BaseException) -> bool:
    """Whether the database refused a NUL character in text (psycopg and Django say so)."""
    while exc is not None:
        if isinstance(exc, ValueError | DatabaseError) and "NUL (0x00)" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False
