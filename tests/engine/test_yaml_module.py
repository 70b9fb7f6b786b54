"""PyYAML's non-printable class and reqflo's cheap spelling of it are the same set."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml.reader

from reqflo.engine.yaml_module import CHEAP_NON_PRINTABLE, LIBRARY_NON_PRINTABLE


def test_the_cheap_pattern_matches_exactly_the_characters_pyyaml_refuses() -> None:
    library, cheap = re.compile(LIBRARY_NON_PRINTABLE), re.compile(CHEAP_NON_PRINTABLE)
    every = "".join(map(chr, range(0x110000)))

    assert [m.start() for m in cheap.finditer(every)] == [
        m.start() for m in library.finditer(every)
    ]


def test_the_library_pattern_is_pyyamls() -> None:
    # If PyYAML changes its pattern, the swap stops (harmless) and this says so.
    source = Path(yaml.reader.__file__).read_text(encoding="utf-8")

    assert "NON_PRINTABLE = re.compile(" in source
    literal = source.split("NON_PRINTABLE = re.compile(", 1)[1].split(")\n", 1)[0]
    assert ast.literal_eval(literal) == LIBRARY_NON_PRINTABLE
