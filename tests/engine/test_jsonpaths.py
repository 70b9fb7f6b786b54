from __future__ import annotations

import jsonpath
import pytest

from reqflo.engine.jsonpaths import Query

DATA = {
    "a": {"b": [10, {"c": "deep"}, None]},
    "list": [1, 2, 3],
    "n": None,
    "x_y": True,
}
PATHS = [
    "$",
    "$.a",
    "$.a.b[0]",
    "$.a.b[1].c",
    "$.a.b[-1]",
    "$.a.b[-4]",
    "$.a.b[7]",
    "$.list.a",
    "$.a[0]",
    "$.n",
    "$.n.more",
    "$.x_y",
    "$.missing",
    "$.list[*]",
    "$..c",
    "$.list[?@ > 1]",
    "$['a']['b'][0]",
]


@pytest.mark.parametrize("path", PATHS)
def test_query_matches_the_rfc_9535_engine(path: str) -> None:
    reference = jsonpath.JSONPathEnvironment(strict=True).compile(path).findall(DATA)

    assert Query(path).findall(DATA) == reference


def test_invalid_paths_are_refused_even_when_they_look_simple() -> None:
    with pytest.raises(jsonpath.JSONPathError):
        Query("$.a.")
