"""Capture a step's outputs from the response: body (JSONPath), header, status or cookie."""

from __future__ import annotations

from typing import Any

from reqflo.engine.http import BodyUnavailable, Exchange
from reqflo.engine.prepare import PreparedOutput


class OutputMissing(LookupError):
    """An output whose source holds nothing; the message names the output and the source."""


def capture(output: PreparedOutput, exchange: Exchange, jar_cookie: str | None) -> Any:
    """Return the output's value; a JSONPath with several matches gives the list of them."""
    if output.source == "status":
        return exchange.status
    if output.source == "header":
        values = exchange.headers.get_list(str(output.key))
        if not values:
            raise OutputMissing(
                f"output '{output.name}': the response has no header '{output.key}'"
            )
        return ", ".join(values)
    if output.source == "cookie":
        value = exchange.cookie(str(output.key)) or jar_cookie
        if value is None:
            raise OutputMissing(f"output '{output.name}': no cookie '{output.key}' was set")
        return value
    assert output.query is not None
    try:
        matches = exchange.find(output.query)
    except BodyUnavailable as exc:
        raise OutputMissing(f"output '{output.name}': {exc}") from None
    if not matches:
        raise OutputMissing(f"output '{output.name}': {output.query} matched nothing in the body")
    return matches[0] if len(matches) == 1 else matches
