"""Find one singular JSONPath (`$.a.b[2]`) in a large JSON body without building its tree.

Parsing a 50 MB document of small records into Python objects costs about seven times its size
in memory. For a singular path only the selected value is needed, so the body is scanned with
ijson's C parser and only that value is built. The events are walked with an explicit depth so
that, unlike ijson's dotted prefixes, an array index never matches an object key named "item".
"""

from __future__ import annotations

from typing import Any

import ijson

from reqflo.engine.depth import MAX_DATA_DEPTH, data_too_deep
from reqflo.engine.numbers import exact_decimals

_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


class StreamError(ValueError):
    """The body is not valid JSON; the message says where the parser stopped."""


def can_stream(steps: tuple[str | int, ...]) -> bool:
    """Return whether a path of these steps can be found by one forward scan."""
    # A negative index counts from the end of an array, unknown until the array is read whole.
    return bool(steps) and all(isinstance(step, str) or step >= 0 for step in steps)


def find_singular(body: bytes | bytearray, steps: tuple[str | int, ...]) -> list[Any]:
    """Return `[value]` at the path of `steps` (names and indexes from `$`), or `[]`."""
    try:
        events = ijson.basic_parse(_Reader(body), use_float=False)
        found, depth = _find(events, steps)
        # Read on to the end: a body that is not JSON after the match is still not JSON, as it
        # would be for json.loads, nor one nested too deeply. Scanning costs time, not memory.
        for event, _ in events:
            if event in _STARTS:
                depth += 1
                if depth > MAX_DATA_DEPTH:
                    raise data_too_deep("the response body")
            elif event in _ENDS:
                depth -= 1
        return found
    except ijson.JSONError as exc:
        raise StreamError(str(exc)) from None


class _Reader:
    """Read a buffer in chunks without copying it whole (io.BytesIO copies a bytearray)."""

    def __init__(self, body: bytes | bytearray) -> None:
        self._view = memoryview(body)
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._offset + size
        chunk = self._view[self._offset : end].tobytes()
        self._offset += len(chunk)
        return chunk


def _find(events: Any, steps: tuple[str | int, ...]) -> tuple[list[Any], int]:
    """Return what the steps select and how many containers are open after it.

    Past MAX_DATA_DEPTH open containers raise TooDeep, as the full parse does.
    """
    depth = 0  # containers open right now; the root value starts at depth 0
    matched = 0  # steps matched: the container at steps[:matched] is open at depth matched + 1
    named = False  # the last key read in the matched object is the wanted name
    position = -1  # index of the current element in the matched array
    for event, value in events:
        if event == "map_key":
            if depth == matched + 1:
                named = value == steps[matched]
            continue
        if event in _ENDS:
            depth -= 1
            if depth < matched + 1:
                return [], depth  # the matched container closed without the wanted child
            continue
        # A value starts: a scalar, or a container opening.
        if depth == 0:
            hit = True  # the root value, at path $
        elif depth == matched + 1:
            step = steps[matched]
            if isinstance(step, int):
                position += 1
                hit = position == step
            else:
                hit, named = named, False
            if hit:
                matched += 1
        else:
            hit = False
        if hit:
            if matched == len(steps):
                return [_build(event, value, events, depth)], depth
            if event not in _STARTS or (event == "start_map") != isinstance(steps[matched], str):
                return [], depth  # a scalar has no children; a name on an array selects nothing
            position = -1
        if event in _STARTS:
            depth += 1
            if depth > MAX_DATA_DEPTH:
                raise data_too_deep("the response body")
    return [], depth


def _build(event: str, value: Any, events: Any, outer: int) -> Any:
    """Build the value that starts with this event, inside `outer` open containers."""
    if event not in _STARTS:
        return exact_decimals(value)
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    if outer + depth > MAX_DATA_DEPTH:
        raise data_too_deep("the response body")
    for event, value in events:
        builder.event(event, value)
        if event in _STARTS:
            depth += 1
            if outer + depth > MAX_DATA_DEPTH:
                raise data_too_deep("the response body")
        elif event in _ENDS:
            depth -= 1
            if depth == 0:
                break
    return exact_decimals(builder.value)
