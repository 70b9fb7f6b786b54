"""How the API reads and writes JSON: numbers exactly as written, nesting refused with its limit.

django-ninja's defaults read a body with ``json.loads`` (``100.10`` becomes the float 100.1, 20
digits lose 4) and write with Django's encoder (a ``Decimal`` becomes a string). Here a body is
read as the engine reads JSON (``reqflo.engine.numbers.loads``: a number a float would print
differently is a ``Literal`` keeping its text) and answers are written by ``numbers.dumps``, so a
journey document, an input or a body value comes back with the digits it was sent with.

A body nested deeper than ``MAX_DATA_DEPTH`` levels is refused before it is parsed (Python's
parser recurses per level) with ``BodyTooDeep``, whose message names the limits: the handler in
``reqflo.api.errors`` answers 400 with an issue ``too_deep``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from reqflo.engine import numbers
from reqflo.engine.depth import MAX_DATA_DEPTH, MAX_DEPTH, nesting_passes


class BodyTooDeep(ValueError):
    """The request body nests deeper than MAX_DATA_DEPTH; the message says where and the limits."""


class ExactParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        text = request.body.decode("utf-8")
        where = nesting_passes(text, MAX_DATA_DEPTH)
        if where is not None:
            raise BodyTooDeep(
                f"the request body is nested more than {MAX_DATA_DEPTH} levels deep{where}; "
                f"a journey document may nest at most {MAX_DEPTH} levels, inputs and data rows "
                f"{MAX_DATA_DEPTH}"
            )
        return numbers.loads(text)


class ExactRenderer(JSONRenderer):
    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return numbers.dumps(data, default=NinjaJSONEncoder().default, ensure_ascii=True)
