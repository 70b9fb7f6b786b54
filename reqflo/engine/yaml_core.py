"""Journey YAML read with the YAML 1.2 core schema, numbers exact, keys that are text.

PyYAML implements YAML 1.1, whose implicit types surprise in a journey: `on`, `off`, `yes`,
`no`, `y`-like words become booleans (a header `X-Feature: on` sent as `true`, a JSON body key
`off:` a Python `False`), `012` is the octal 10, `1:30` the sexagesimal 90 and `2026-01-31` a
date. Here every journey reader and writer (the engine's loader, the pages' composer and dumper,
the editor's typed fields) resolves plain scalars as the YAML 1.2 core schema does
(https://yaml.org/spec/1.2.2/#103-core-schema):

- null: `~`, `null`, `Null`, `NULL` and the empty value;
- booleans: `true`, `True`, `TRUE`, `false`, `False`, `FALSE` and nothing else;
- integers: `[-+]?[0-9]+` (decimal, `012` is 12), `0o17`, `0xFF`;
- floats: `1.5`, `.5`, `1e5`, `-2.5E-3`, `.inf`, `-.inf`, `.nan`;
- anything else (`on`, `yes`, `1:30`, `2026-01-31`, `0b101`) is a string.

Numbers keep their text (`reqflo.engine.numbers.parse_number`): `100.10` stays `100.10`, `012`
is 12 written as `012` where text is wanted. A mapping key written as a plain boolean or null
(`true:`, `null:`, `~:`) is its text: every key in a journey (headers, query, JSON objects,
inputs) is a name. Duplicate keys are refused instead of the last one silently winning.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.yaml_module import yaml

_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

# (tag, pattern, first characters), in the order they are tried: int before float.
_CORE: list[tuple[str, re.Pattern[str], str]] = [
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN\0"),
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
]


def core_resolvers() -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    """Return `yaml_implicit_resolvers` for the YAML 1.2 core schema (plus `<<` merge keys)."""
    table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, pattern, firsts in _CORE:
        for first in firsts:
            table.setdefault(None if first == "\0" else first, []).append((tag, pattern))
    table.setdefault("<", []).append(("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$")))
    return table


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader with the core schema's types, exact numbers, text keys, no duplicates."""

    yaml_implicit_resolvers = core_resolvers()

    def ignore_aliases(self, data: Any) -> bool:
        """Always: a journey is written out in full, never with ``&id001``/``*id001`` for a
        value it holds twice (the editor shares the mappings of identical steps)."""
        return True


def _key(loader: Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag in (_BOOL, _NULL) and not node.style:
        return node.value  # `true:`, `null:`, `~:` name a key; they are not values
    return loader.construct_object(node, deep=True)


def _construct_mapping(loader: Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _key(loader, key_node)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> int | Decimal:
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    try:
        value = numbers.parse_number(text)
    except ValueError:  # an explicit `!!int 0b101` or `!!int 1_000`: YAML 1.1's own reading
        return int(loader.construct_yaml_int(node))
    return value if not isinstance(value, float) else int(value)


def _construct_float(loader: Loader, node: yaml.ScalarNode) -> float | Decimal:
    """A float with every digit and its text (`numbers.parse_number`); `.inf`, `.nan` as YAML
    reads them."""
    text = str(loader.construct_scalar(node))
    try:
        value = numbers.parse_number(text)
    except ValueError:
        return float(loader.construct_yaml_float(node))
    return value if isinstance(value, Decimal) else float(value)


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
Loader.add_constructor(_INT, _construct_int)
Loader.add_constructor(_FLOAT, _construct_float)


_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumper(_BaseDumper):  # type: ignore[misc]
    """The safe dumper writing YAML that `Loader` reads back the same: a string `Loader` would
    read as another type (`1e5`, `012`, `true`) is quoted, a Decimal is the number it is with
    every digit (a Literal as written; an explicit `!!float` where the text needs it)."""

    yaml_implicit_resolvers = core_resolvers()

    def ignore_aliases(self, data: Any) -> bool:
        """Always: a journey is written out in full, never with ``&id001``/``*id001`` for a
        value it holds twice (the editor shares the mappings of identical steps)."""
        return True


def _represent_decimal(dumper: Any, value: Decimal) -> yaml.ScalarNode:
    tag = _INT if numbers.is_integral(value) else _FLOAT
    return dumper.represent_scalar(tag, str(value))  # type: ignore[no-any-return]


Dumper.add_multi_representer(Decimal, _represent_decimal)


def load(text: str) -> Any:
    """Parse YAML text with `Loader` (yaml's MarkedYAMLError for bad syntax)."""
    return yaml.load(text, Loader=Loader)  # a safe loader subclass
