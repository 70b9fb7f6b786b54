"""Write runs as JUnit XML valid against the Jenkins xUnit `junit-10.xsd`.

One `<testsuite>` per run, named "<journey> · <case or row>", and one `<testcase>` per step.
A failed step carries `<failure>` with every failed assertion's expected and actual value, a
transport or reference error carries `<error>`, a skipped step `<skipped>` with its reason.

Suites are spooled to a temporary file while runs stream in, because the `<testsuites>` totals
must come first in the document but are only known at the end.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any, TextIO

from reqflo.engine import numbers
from reqflo.engine.report.summary import ReportSummary
from reqflo.engine.results import (
    AssertionResult,
    AttemptResult,
    RunResult,
    StepResult,
    actual_shown,
    expected_shown,
)

# XML 1.0 forbids most control characters; response bodies and messages may contain them.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPOOL_BYTES = 4 * 1024 * 1024


def write_junit(runs: Iterable[RunResult], out: TextIO, *, name: str = "reqflo") -> ReportSummary:
    """Stream `runs` into `out` as one `<testsuites>` document and return the totals."""
    summary = ReportSummary()
    with tempfile.SpooledTemporaryFile(_SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        for run in runs:
            spool.write(_serialize(_testsuite(run)))
            summary.add(run)
        root = {
            "name": name,
            "tests": str(summary.steps.total),
            "failures": str(summary.steps.failed),
            "errors": str(summary.steps.error),
            "time": _seconds(summary.duration_ms),
        }
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f"<testsuites {_attributes(root)}>\n")
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write("</testsuites>\n")
    return summary


def render_junit(runs: Iterable[RunResult], *, name: str = "reqflo") -> str:
    """Return the whole JUnit XML document for `runs` as a string."""
    buffer = io.StringIO()
    write_junit(runs, buffer, name=name)
    return buffer.getvalue()


def suite_name(run: RunResult) -> str:
    """Name a run the way CI lists it: the journey, then its case or data row.

    A data row named by a `case`/`name` column also gets its row number: names may repeat, and
    CI tools merge suites of the same name.
    """
    label = run.label
    if run.row is not None and label != f"row {run.row}":
        label = f"{label} (row {run.row})" if label else f"row {run.row}"
    return f"{run.journey_name} · {label}" if label else run.journey_name


def _testsuite(run: RunResult) -> ET.Element:
    counts = dict.fromkeys(("failed", "error", "skipped"), 0)
    for step in run.steps:
        if step.status in counts:
            counts[step.status] += 1
    suite = ET.Element(
        "testsuite",
        {
            "name": _clean(suite_name(run)),
            "tests": str(len(run.steps)),
            "failures": str(counts["failed"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"]),
            "time": _seconds(run.duration_ms),
            "timestamp": run.started_at,
            "id": run.run_id,
            "package": run.journey_slug,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in _run_properties(run):
        ET.SubElement(properties, "property", {"name": key, "value": _clean(value)})
    for step in run.steps:
        suite.append(_testcase(run, step))
    return suite


def _run_properties(run: RunResult) -> list[tuple[str, str]]:
    pairs = [("run_id", run.run_id), ("artifact_id", run.artifact_id), ("status", run.status)]
    if run.environment:
        pairs.append(("environment", run.environment))
    if run.label:
        pairs.append(("label", run.label))
    if run.row is not None:
        pairs.append(("row", str(run.row)))
    # Inputs arrive redacted from the engine; they let a reader reproduce the failing row.
    pairs.extend((f"input.{key}", _text(value)) for key, value in sorted(run.inputs.items()))
    return pairs


def _testcase(run: RunResult, step: StepResult) -> ET.Element:
    name = f"{step.index + 1}. {step.name}"
    if run.label:
        # Data rows repeat the same steps; the label keeps each row's testcase distinguishable
        # in CI tools that flatten suites (newman#591).
        name += f" [{run.label}]"
    case = ET.Element(
        "testcase",
        {"name": _clean(name), "classname": run.journey_slug, "time": _seconds(step.duration_ms)},
    )
    final = step.final
    if step.status == "skipped":
        ET.SubElement(case, "skipped", {"message": _clean(step.skip_reason or "skipped")})
    elif step.status == "error":
        error = step.error
        kind, message = (error.kind, error.message) if error else ("error", "step errored")
        element = ET.SubElement(case, "error", {"type": kind, "message": _clean(message)})
        element.text = _clean(_attempts_text(step))
    elif step.status == "failed":
        failed = [a for a in step.failed_assertions if not a.soft]
        message = failed[0].message if failed else "step failed"
        if len(failed) > 1:
            message += f" (and {len(failed) - 1} more)"
        element = ET.SubElement(case, "failure", {"type": "assertion", "message": _clean(message)})
        element.text = _clean(_failure_text(failed, final))
    soft = [a for a in step.failed_assertions if a.soft]
    if soft or step.logs:
        out = ET.SubElement(case, "system-out")
        lines = [f"soft assertion failed: {a.message}" for a in soft] + list(step.logs)
        out.text = _clean("\n".join(lines))
    return case


def _failure_text(failed: list[AssertionResult], final: AttemptResult | None) -> str:
    blocks = [_assertion_text(assertion) for assertion in failed]
    if final is not None:
        blocks.append(_exchange_text(final))
    return "\n\n".join(blocks)


def _assertion_text(assertion: AssertionResult) -> str:
    subject = " ".join(
        part for part in (assertion.type, assertion.target, assertion.operator) if part
    )
    # A missing value is not `null`: say why there is none.
    return (
        f"{subject}\n"
        f"  expected: {expected_shown(assertion, _json)}\n"
        f"  actual:   {actual_shown(assertion, _json)}\n"
        f"  {assertion.message}"
    )


def _attempts_text(step: StepResult) -> str:
    return "\n".join(_exchange_text(attempt) for attempt in step.attempts)


def _exchange_text(attempt: AttemptResult) -> str:
    request = attempt.request
    line = f"attempt {attempt.number}: "
    line += f"{request.method} {request.url}" if request else "(request not sent)"
    if attempt.response is not None:
        response = attempt.response
        line += f" -> {response.status} {response.reason} in {response.elapsed_ms:.0f} ms"
    if attempt.error is not None:
        line += f" -> {attempt.error.kind}: {attempt.error.message}"
    if attempt.retry_reason:
        line += f" (retried: {attempt.retry_reason})"
    return line


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    return numbers.dumps(value, ensure_ascii=False, default=str)


def _seconds(duration_ms: float) -> str:
    return f"{max(duration_ms, 0.0) / 1000:.3f}"


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _attributes(values: dict[str, str]) -> str:
    return " ".join(f'{key}="{_escape_attribute(_clean(value))}"' for key, value in values.items())


def _escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
    )


def _serialize(element: ET.Element) -> str:
    ET.indent(element, space="  ", level=1)
    return "  " + ET.tostring(element, encoding="unicode") + "\n"
