"""PyYAML, imported without compiling its 64K-entry character class (~9 ms of every start).

`yaml.reader.Reader.NON_PRINTABLE` is compiled when PyYAML is imported, from a negated class of
every printable character: `re` builds it as a bitmap of every code point of the BMP, one at a
time in Python (~9 ms here, a twentieth of `reqflo validate`). The same set of characters
(every one the class does not list) is small written positively: C0 controls but tab, line
feed and carriage return; DEL and the C1 controls but NEL; surrogates; U+FFFE and U+FFFF
(tests/engine/test_yaml_module.py checks both on every code point). Before the first import
this module puts that cheap pattern into `re`'s cache under PyYAML's pattern, so PyYAML's
`re.compile` gets it. When `re` keeps no such cache or PyYAML's pattern changes, nothing is
swapped: PyYAML is only slower to import. Import PyYAML from here: `from
reqflo.engine.yaml_module import yaml`.
"""

from __future__ import annotations

import re
import sys

LIBRARY_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
CHEAP_NON_PRINTABLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


def _seed_pattern_cache() -> None:
    cache = getattr(re, "_cache", None)
    key = (str, LIBRARY_NON_PRINTABLE, 0)
    if "yaml" not in sys.modules and isinstance(cache, dict) and key not in cache:
        cache[key] = re.compile(CHEAP_NON_PRINTABLE)


_seed_pattern_cache()

import yaml  # noqa: E402  (after the cache is seeded)

__all__ = ["yaml"]
