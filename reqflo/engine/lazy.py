"""Public names of a package imported on first use (PEP 562), so importing it costs nothing.

`reqflo validate` must not load httpx, and `reqflo --help` not even the engine: a package's
``__init__`` names where each public name lives instead of importing it, and the name's module
is imported the first time someone reads it (tests/cli/test_startup.py holds the CLI to that).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of ``package``.

    ``homes`` maps each public name to the module defining it; a name equal to its module's
    last part is the submodule itself. Reading any other name raises AttributeError.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        module = importlib.import_module(home)
        value = module if home == f"{package}.{name}" else getattr(module, name)
        # The next read finds a plain module attribute.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
