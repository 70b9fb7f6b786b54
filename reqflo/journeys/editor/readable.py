"""The Run check of a document that does not read as a whole: what its readable parts reference.

A journey with a half-filled row (an assertion with no path yet) is not a definition, so the
Run check cannot run on it; but an environment value or a secret that its other parts reference
and that is not there is worth naming while the user fixes the row (a verifier typed
``{{ env.nopeZ }}`` in a new step and the check said nothing about it).

``context_issues`` leaves out each item a problem names (the list element or keyed entry that
holds the erring field: ``steps[2].assertions[1]``, ``steps[0].outputs.token``), reads what is
left, and returns only the problems that depend on nothing but the reference and the workspace:
an environment value or a secret that is not there (``CONTEXT_CODES``). A reference to a part
that was left out would be a false alarm, so no other problem is returned.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from reqflo.engine import DefinitionError, Issue, definition_from_data, run_check
from reqflo.engine.step_checks import StepChecks

CONTEXT_CODES = frozenset({"unknown_env", "no_base_url", "missing_secret"})
# Mappings whose entries are items of their own (a path's next part is the entry's key).
KEYED = frozenset({"outputs", "headers", "query", "form"})
MAX_ROUNDS = 4
_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")

Part = str | int


def _parts(path: str) -> list[Part]:
    """Return ``steps[2].assertions[1].path`` as ``["steps", 2, "assertions", 1, "path"]``."""
    return [int(index) if index else key for index, key in _PART.findall(path)]


def _item(journey: Mapping[str, Any], parts: list[Part]) -> tuple[Part, ...] | None:
    """Return the path of the deepest item on ``parts`` that is there (a list element or a
    keyed entry), or None when the path holds none (a problem of the journey itself)."""
    cuts = [
        k
        for k in range(1, len(parts))
        if isinstance(parts[k], int) or (parts[k - 1] in KEYED and isinstance(parts[k], str))
    ]
    for k in reversed(cuts):
        if _without(journey, parts[: k + 1]) is not None:
            return tuple(parts[: k + 1])
    return None


def _order(item: tuple[Part, ...]) -> list[tuple[int, Part]]:
    return [(0, part) if isinstance(part, int) else (1, part) for part in item]


Removed = dict[tuple[Part, ...], list[int]]  # a list's path → the indexes taken out of it


def _cut(journey: Mapping[str, Any], paths: Iterable[str]) -> tuple[Any, Removed]:
    """Return a copy of ``journey`` without the item each path lies in (None when a path lies
    in none), and the list elements taken out. Only the containers on the way are copied: the
    document's other mappings are shared (the editor's memory of steps), never changed."""
    items = set()
    for path in paths:
        item = _item(journey, _parts(path))
        if item is None:
            return None, {}
        items.add(item)
    # An item inside another one goes with it; later list elements go first, so that the
    # indexes of the earlier ones still hold.
    outer = [i for i in items if not any(o != i and i[: len(o)] == o for o in items)]
    removed: Removed = {}
    for item in sorted(outer, key=_order, reverse=True):
        journey = _without(journey, list(item))
        if isinstance(item[-1], int):
            removed.setdefault(item[:-1], []).append(item[-1])
    return journey, removed


def _back(path: str, removed: Removed) -> str:
    """Return a path in the cut journey as the path in the journey it was cut from."""
    out: list[Part] = []
    for part in _parts(path):
        if isinstance(part, int):
            for index in sorted(removed.get(tuple(out), [])):
                if index <= part:
                    part += 1
        out.append(part)
    return "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(out)
    )


def _without(node: Any, parts: list[Part]) -> Any:
    """Return a copy of ``node`` with the item at ``parts`` removed, or None if it is not there."""
    head, rest = parts[0], parts[1:]
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node):
        if not rest:
            return node[:head] + node[head + 1 :]
        inner = _without(node[head], rest)
        return None if inner is None else [*node[:head], inner, *node[head + 1 :]]
    if isinstance(node, dict) and isinstance(head, str) and head in node:
        if not rest:
            return {key: value for key, value in node.items() if key != head}
        inner = _without(node[head], rest)
        return None if inner is None else {**node, head: inner}
    return None


def context_issues(
    document: Mapping[str, Any],
    problems: Iterable[Issue],
    *,
    environment: Mapping[str, Any] | None,
    secret_names: Collection[str] | None,
    step_checks: StepChecks | None = None,
) -> list[Issue]:
    """Return the environment and secret problems of what reads in ``document``, whose
    ``problems`` (paths under ``journey``) keep it from reading as a whole; ``[]`` when the
    erring parts cannot be left out (a problem of the journey itself) within MAX_ROUNDS."""
    journey = document.get("journey") if isinstance(document, Mapping) else None
    if not isinstance(journey, Mapping) or (environment is None and secret_names is None):
        return []
    paths = {problem.path for problem in problems}
    rounds: list[Removed] = []
    for _ in range(MAX_ROUNDS):
        journey, removed = _cut(journey, paths)
        if journey is None:
            return []
        rounds.append(removed)
        try:
            definition = definition_from_data(
                {"journey": journey}, source="<editor>", step_checks=step_checks
            )
        except DefinitionError as error:
            paths = {issue.path for issue in error.issues}
            continue
        found = run_check(definition, environment=environment, secret_names=secret_names)
        issues = []
        for issue in found:
            if issue.code in CONTEXT_CODES:
                path = issue.path
                for removed in reversed(rounds):
                    path = _back(path, removed)
                issues.append(Issue(issue.severity, issue.code, path, issue.message))
        return issues
    return []
