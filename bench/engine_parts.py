"""Where the engine's own cost per request goes: bench.engine_vs_httpx's in-process checkout
with one part of the engine switched off at a time.

Parts: `no-scan` (no redaction of step results: `redact_step` returns at once), `no-redaction`
(no scan and no secret registered: the redactor stays empty), `no-assertions` (no check run or
recorded) and `no-records` (no request or response record built). What a part costs is the
engine's figure minus the figure without it. Switching a part off is for measuring only: the
runs then keep secrets, skip checks or lose evidence.

By default the variants and the plain httpx loop alternate in one process, `--rounds` times,
and the median process CPU time per request is printed. `--instructions` counts the
instructions each executes instead, with valgrind's callgrind (one child process per variant,
less one that only warms up; ~50x slower): the same on a loaded machine as on a quiet one.

    .venv/bin/python -m bench.engine_parts [--rows 200] [--rounds 5] [--instructions]
        [--variants no-scan,no-redaction]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from typing import Any

import bench.engine_vs_httpx as checkout
import reqflo.engine.runner as runner
from reqflo.engine.redaction import Redactor
from reqflo.engine.results import RequestRecord

VARIANTS = ("httpx", "engine", "no-scan", "no-redaction", "no-assertions", "no-records")
_ORIGINAL = {
    "redact_step": runner.redact_step,
    "evaluate_assertions": runner.evaluate_assertions,
    "request_record": runner.request_record,
    "response_record": runner.response_record,
}
_ADD = Redactor.add
_RECORD = RequestRecord(method="GET", url="", headers={}, body=None, body_size=0)


def switch(variant: str) -> None:
    """Put the engine back together, then switch off what `variant` names."""
    for name, function in _ORIGINAL.items():
        setattr(runner, name, function)
    Redactor.add = _ADD  # type: ignore[method-assign]
    if variant in ("no-scan", "no-redaction"):
        runner.redact_step = lambda result, redactor: False
    if variant == "no-redaction":
        Redactor.add = lambda self, *values, **kwargs: None  # type: ignore[method-assign]
    if variant == "no-assertions":
        runner.evaluate_assertions = lambda assertions, exchange, scope: []
    if variant == "no-records":
        runner.request_record = lambda request, content, limit: _RECORD
        runner.response_record = lambda exchange, limit: None


def _loop(variant: str) -> Any:
    return checkout.httpx_loop if variant == "httpx" else checkout.engine_loop


def cpu_times(rows: int, rounds: int) -> dict[str, float]:
    """Return each variant's median process CPU time per request, in µs."""
    data = checkout.rows(rows)
    shop = checkout.InProcessShop()
    base_url = "http://shop.test" + checkout.API_PREFIX
    checkout.httpx_loop(base_url, data[:5], shop)
    checkout.engine_loop(base_url, data[:5], shop)
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(rounds):
        for variant in VARIANTS:
            switch(variant)
            started = time.process_time()
            _loop(variant)(base_url, data, shop)
            times[variant].append(time.process_time() - started)
    switch("engine")
    return {v: statistics.median(t) / (rows * 5) * 1e6 for v, t in times.items()}


def child(variant: str, rows: int) -> None:
    """Warm both loops up, then run `variant` once (nothing for "warm"): one callgrind run."""
    data = checkout.rows(rows)
    shop = checkout.InProcessShop()
    base_url = "http://shop.test" + checkout.API_PREFIX
    checkout.httpx_loop(base_url, data[:5], shop)
    checkout.engine_loop(base_url, data[:5], shop)
    if variant != "warm":
        switch(variant)
        _loop(variant)(base_url, data, shop)


def instructions(rows: int, variants: tuple[str, ...] = VARIANTS) -> dict[str, float]:
    """Return each variant's instructions per request (callgrind), less the warm-up's."""
    counts: dict[str, int] = {}
    for variant in ("warm", *variants):
        argv = [sys.executable, "-m", "bench.engine_parts", "--child", variant, "--rows", str(rows)]
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise SystemExit(f"callgrind gave no count for {variant}:\n{done.stderr[-2000:]}")
        counts[variant] = int(found.group(1))
    return {v: (counts[v] - counts["warm"]) / (rows * 5) for v in variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated variants to count (httpx and engine always)",
    )
    parser.add_argument("--child", choices=("warm", *VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    print("load average:", os.getloadavg())
    variants = tuple(v for v in VARIANTS if v in {"httpx", "engine", *args.variants.split(",")})
    if args.instructions:
        figures, unit = instructions(args.rows, variants), "instructions/request"
    else:
        figures, unit = cpu_times(args.rows, args.rounds), "µs CPU/request"
    engine = figures["engine"]
    for variant in variants if args.instructions else VARIANTS:
        saves = (
            ""
            if variant in ("httpx", "engine")
            else f"  (the part: {engine - figures[variant]:,.0f})"
        )
        print(f"{variant:14s} {figures[variant]:12,.0f} {unit}{saves}")
    print(f"engine / httpx = {engine / figures['httpx']:.2f}x")
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
