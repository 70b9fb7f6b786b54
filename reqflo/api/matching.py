"""Forgiving name matching for ``--case`` and ``--env``: ``happy-path`` finds "Happy path"."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from reqflo.api.errors import ApiError

T = TypeVar("T")


def _loose(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


def match_name(wanted: str, items: Iterable[T], *, name_of: Callable[[T], str], what: str) -> T:
    """Return the item named ``wanted``: exactly, else ignoring case, else ignoring punctuation.

    Raises ``ApiError`` 400 ``unknown_<what>`` listing the choices when nothing (or more than
    one item, loosely) matches.
    """
    candidates: Sequence[T] = list(items)
    rules: tuple[Callable[[str], str], ...] = (str, str.casefold, _loose)
    for rule in rules:
        found = [item for item in candidates if rule(name_of(item)) == rule(wanted)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            break
    choices = ", ".join(repr(name_of(item)) for item in candidates) or "none"
    raise ApiError(
        400,
        f"unknown_{what}",
        f"No {what} matches {wanted!r}; the choices are: {choices}.",
        issues=[{"path": what, "code": f"unknown_{what}", "message": f"choices: {choices}"}],
    )
