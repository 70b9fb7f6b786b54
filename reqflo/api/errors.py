"""JSON errors of the API: every refusal is ``{"code": …, "message": …}`` with a fitting status.

``code`` is stable (clients branch on it); ``message`` is a sentence for people; ``issues``
lists path-precise problems (the engine's Run check and definition errors, request fields).
Codes: ``token_*`` (401, see ``reqflo.api.services.TokenRefused``), ``role_required`` (403),
``not_found`` (404), ``method_not_allowed`` (405, with ``Allow``), ``invalid_json``,
``invalid_request`` and ``invalid_definition`` (400), ``run_check_failed`` (422),
``idempotency_conflict``, ``version_conflict`` and ``not_cancellable`` (409), ``rate_limited``
(429, with ``Retry-After``), ``server_error`` (500). Answers made outside django-ninja (an
unknown path under the API, a wrong method) are turned into the same shape by
``JsonErrorsMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from reqflo.api.json_io import BodyTooDeep
from reqflo.api.services import TokenRefused
from reqflo.engine import Issue

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

# The stable code of an answer whose status is all that is known about it.
STATUS_CODES = {
    400: "invalid_request",
    401: "token_missing",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limited",
}
STATUS_MESSAGES = {
    404: "There is no such API address; the endpoints are listed at /api/v1/docs.",
    405: "This address does not answer {method}; it answers {allow}.",
    413: "The request is too large.",
}


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


LOCATION_KINDS = ("body", "payload", "query", "path", "header", "cookie")


def _request_issue(error: dict[str, Any]) -> dict[str, Any]:
    # ninja reports ("body", "payload", "inputs") or ("query", "since"): the client knows only
    # the field or the parameter.
    location = [str(part) for part in error.get("loc", ()) if part not in LOCATION_KINDS]
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
        where = "; ".join(f"{i['path'] or 'the request'}: {i['message']}" for i in issues[:3])
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
        if isinstance(exc.__cause__, BodyTooDeep):
            message = str(exc.__cause__)
            issue = {"path": "", "code": "too_deep", "message": message}
            return respond(
                request,
                400,
                _body("invalid_request", message[0].upper() + message[1:] + ".", [issue]),
            )
        if isinstance(exc.__cause__, ValueError):
            # django-ninja could not parse the body (JSON syntax, or bytes that are not UTF-8).
            return respond(
                request,
                400,
                _body("invalid_json", f"The request body is not valid JSON: {exc.__cause__}."),
            )
        code = STATUS_CODES.get(exc.status_code, "http_error")
        return respond(request, exc.status_code, _body(code, str(exc)))

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


@cache
def api_prefix() -> str:
    return reverse("api:api-root")


class JsonErrorsMiddleware:
    """Answer every error under the API's address as JSON with a stable code.

    django-ninja's handlers cover the endpoints; an address no endpoint has (Django's 404 page)
    and a method an endpoint lacks (django-ninja's plain-text 405) are answered here, keeping
    ``Allow``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(api_prefix())
            or str(response.get("Content-Type", "")).startswith("application/json")
        ):
            return response
        status = response.status_code
        allow = str(response.get("Allow", ""))
        message = STATUS_MESSAGES.get(status, "The request failed ({status}).").format(
            method=request.method, allow=allow, status=status
        )
        answer = JsonResponse(_body(STATUS_CODES.get(status, "http_error"), message), status=status)
        if allow:
            answer["Allow"] = allow
        return answer
