"""Write runs as a `reqflo.report/v1` JSON document (see docs/report-format.md).

The document is written as it streams: the header, then one run per line inside `runs`, then the
summary. It stays one valid JSON value; one run per line keeps huge reports greppable.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, TextIO, TypedDict

from reqflo.engine import numbers
from reqflo.engine.report.schema import SCHEMA_VERSION
from reqflo.engine.report.summary import ReportSummary
from reqflo.engine.results import RunResult

SCHEMA_ID = "reqflo.report/v1"


class ReportMeta(TypedDict, total=False):
    """Where a report came from; every key is optional."""

    generator: str
    created_at: str
    journey_file: str
    environment: str | None
    case: str | None
    data_file: str | None
    parallel: int
    runner: str


def write_json(
    runs: Iterable[RunResult], out: TextIO, *, meta: ReportMeta | None = None
) -> ReportSummary:
    """Stream `runs` into `out` as one JSON document and return the totals written."""
    summary = ReportSummary()
    out.write(f'{{"schema": "{SCHEMA_ID}", "schema_version": "{SCHEMA_VERSION}",\n')
    out.write(f'"meta": {_dumps(dict(meta or {}))},\n')
    out.write('"runs": [')
    for run in runs:
        out.write(",\n" if summary.runs else "\n")
        out.write(_dumps(run.to_dict()))
        summary.add(run)
    out.write("\n],\n" if summary.runs else "],\n")
    out.write(f'"summary": {_dumps(summary.to_dict())}}}\n')
    return summary


def render_json(runs: Iterable[RunResult], *, meta: ReportMeta | None = None) -> str:
    """Return the whole `reqflo.report/v1` document for `runs` as a string."""
    buffer = io.StringIO()
    write_json(runs, buffer, meta=meta)
    return buffer.getvalue()


def _dumps(value: Any) -> str:
    # Assertion values come from user responses; `default=str` keeps an odd value (a date) from
    # aborting a report that already streamed half its runs. NaN and the infinities (which
    # Python's json accepts in responses) are written by name, as the server stores them.
    try:
        return numbers.dumps(value, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        return numbers.dumps(numbers.finite_or_named(value), ensure_ascii=False, default=str)
