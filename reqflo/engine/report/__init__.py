"""Render run results as machine-readable reports: `reqflo.report/v1` JSON and JUnit XML.

Pure functions over engine results (no Django, no terminal). Both formats stream: the writers take
an iterable of runs and keep only counters in memory, so a 100,000-row data run reports in flat
memory. The `render_*` functions return the whole document as a string for the server and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reqflo.engine.lazy import exports

if TYPE_CHECKING:
    from reqflo.engine.report.json_report import (
        SCHEMA_ID,
        ReportMeta,
        render_json,
        write_json,
    )
    from reqflo.engine.report.junit_report import render_junit, write_junit
    from reqflo.engine.report.schema import REPORT_SCHEMA
    from reqflo.engine.report.summary import ReportSummary

# Imported on first use: a run that writes no JUnit file never loads the XML writer.
__getattr__, __dir__ = exports(
    __name__,
    {
        "REPORT_SCHEMA": "reqflo.engine.report.schema",
        "SCHEMA_ID": "reqflo.engine.report.json_report",
        "ReportMeta": "reqflo.engine.report.json_report",
        "ReportSummary": "reqflo.engine.report.summary",
        "render_json": "reqflo.engine.report.json_report",
        "render_junit": "reqflo.engine.report.junit_report",
        "write_json": "reqflo.engine.report.json_report",
        "write_junit": "reqflo.engine.report.junit_report",
    },
)

__all__ = [
    "REPORT_SCHEMA",
    "SCHEMA_ID",
    "ReportMeta",
    "ReportSummary",
    "render_json",
    "render_junit",
    "write_json",
    "write_junit",
]
