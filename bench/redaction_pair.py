"""Paired A/B of the redactor: a checkout's single-module redactor vs this one, in one process.

    git archive <commit> reqflo | tar -x -C /tmp/base      # a commit before the package split
    REQFLO_BASE=/tmp/base .venv/bin/python -m bench.redaction_pair

The old `reqflo/engine/redact.py` (and its `redact_budget.py`) is loaded under its own module
names next to `reqflo.engine.redaction`; both redact the same texts (bench.redaction's typical
step and its secret-free answers), interleaved round by round (ABBA), best of 15 rounds of
process CPU time each: on a loaded machine the ratio is what to read.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from types import ModuleType
from typing import Any

from bench import common  # noqa: F401  (puts the repository on sys.path)
from bench.redaction import SECRETS, _clean_kinds, _typical

ROUNDS = 15


def _load(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _step(redactor: Any, texts: list[str], full: bool) -> None:
    if redactor.occurs_in(texts) and full:
        for text in texts:
            redactor.redact(text)


def main() -> None:
    base = os.environ["REQFLO_BASE"]
    _load("reqflo.engine.redact_budget", f"{base}/reqflo/engine/redact_budget.py")
    old = _load("reqflo.engine.redact", f"{base}/reqflo/engine/redact.py")
    from reqflo.engine.redaction import Redactor

    found, clean = _typical()
    cases = {
        "typical step (occurs_in + redact)": (found + clean, True),
        "16 KB answer, no secret (occurs_in)": (clean, False),
        **{f"{name} (occurs_in)": ([text], False) for name, text in _clean_kinds().items()},
    }
    sides = {"before": old.Redactor(SECRETS), "after": Redactor(SECRETS)}
    print(f"load average: {os.getloadavg()}")
    for name, (texts, full) in cases.items():
        times: dict[str, list[float]] = {"before": [], "after": []}
        for round_ in range(ROUNDS):
            for side in ("before", "after") if round_ % 2 == 0 else ("after", "before"):
                start = time.process_time()
                for _ in range(10):
                    _step(sides[side], texts, full)
                times[side].append((time.process_time() - start) / 10)
        before, after = min(times["before"]), min(times["after"])
        print(
            f"{name}: before {before * 1000:.2f} ms, after {after * 1000:.2f} ms, "
            f"after/before {after / before:.2f}"
        )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
