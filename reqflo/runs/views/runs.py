"""A run's page, its live part, and its downloads (reports, evidence bundle, a stored body).

Every member of the run's workspace reads all of it; another workspace's run is a 404
(``get_run_for_user``). Editors and owners also get the re-run and cancel buttons, which post
to ``reqflo.runners`` (the dispatch side sits above runs). Everything shown is the stored,
redacted evidence (DESIGN.md section 5): no secret value can reach these pages.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from reqflo.core.access import current_membership
from reqflo.core.http import AuthedHttpRequest, htmx_partial, render_page, render_poll
from reqflo.core.models import Role
from reqflo.engine.results import StepResult as EngineStepResult
from reqflo.runs import evidence, reports, selectors
from reqflo.runs.access import get_run_for_user
from reqflo.runs.models import Run, RunStatus

TEMPLATE = "runs/run_detail.html"


def _context(
    request: AuthedHttpRequest,
    run_id: UUID,
    *,
    page: bool = True,
    shown: int = 0,
    facts_shown: str | None = None,
) -> dict[str, Any]:
    """The page's context; for a poll (``page`` false), the live part's.

    ``facts_shown`` is the facts key the polling page shows: when the run's differs (it
    started, was retried, is cancelling, ended), the poll answers every part of the page that
    shows them again, out of band (``oob``), with what it needs (chain, attempts, compare).
    """
    detail = selectors.run_detail(run_id=run_id, full=page, light_before=shown)
    run = detail.run
    facts_key = selectors.run_facts_key(run)
    oob = not page and facts_key != facts_shown
    if oob:
        detail = selectors.with_run_facts(detail)
    failed = run.status in (RunStatus.FAILED, RunStatus.ERROR)
    return {
        # The page offers "compare with the last passed run"; the live part has no use for it.
        "compare_with": selectors.last_run_with_status(run=run, status=RunStatus.PASSED)
        if (page or oob) and failed
        else None,
        "detail": detail,
        "facts_key": facts_key,
        "oob": oob,
        "run": run,
        "journey": run.journey_version.journey,
        "can_act": current_membership(request).has_role(Role.EDITOR),
        "has_report": run.is_finished,
        "ci": selectors.run_ci_info(run=run) if page else None,
    }


@login_required
@require_GET
def run_detail(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Show the run: its facts, then every step's request, response, assertions and outputs."""
    run = get_run_for_user(request, run_id)
    return render_page(request, TEMPLATE, _context(request, run.pk), partial="run-live")


@login_required
@require_GET
def run_live(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Answer the page's poll with its live part; 286 (stop polling) once the run finished.

    When the run's facts changed since the page showed them (``?facts=``), the answer also
    carries the header, facts and buttons, swapped out of band: nothing stays stale.
    """
    run = get_run_for_user(request, run_id)
    if not htmx_partial(request):
        return redirect("runs:detail", run_id=run.pk)
    # ``shown``: how many stored steps the polling page already has (it keeps them as they are).
    raw = request.GET.get("shown", "")
    shown = int(raw) if raw.isdigit() else 0
    context = _context(
        request, run.pk, page=False, shown=shown, facts_shown=request.GET.get("facts")
    )
    return render_poll(
        request, TEMPLATE, context, partial="run-poll", finished=context["run"].is_finished
    )


def _download(text: str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _finished_or_404(run: Run) -> None:
    if not run.is_finished:
        raise Http404(f"The run is still {run.status}: its report is ready once it ends.")


@login_required
@require_GET
def run_report_json(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Download the run's ``reqflo.report/v1`` JSON, as ``reqflo run --reporter json`` writes."""
    run = get_run_for_user(request, run_id)
    _finished_or_404(run)
    return _download(
        reports.run_json_report(run),
        content_type="application/json; charset=utf-8",
        filename=f"run-{run.pk}.json",
    )


@login_required
@require_GET
def run_report_junit(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Download the run's JUnit XML, as ``reqflo run --reporter junit`` writes it."""
    run = get_run_for_user(request, run_id)
    _finished_or_404(run)
    return _download(
        reports.run_junit_report(run),
        content_type="application/xml; charset=utf-8",
        filename=f"run-{run.pk}.junit.xml",
    )


@login_required
@require_GET
def run_evidence(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Download the run's evidence bundle: every stored step result, verifiable offline."""
    run = get_run_for_user(request, run_id)
    return _download(
        evidence.evidence_bundle_json(run_id=run.pk),
        content_type="application/json; charset=utf-8",
        filename=f"run-{run.pk}.evidence.json",
    )


@login_required
@require_GET
def run_body(request: AuthedHttpRequest, run_id: UUID, index: int) -> HttpResponse:
    """Download the stored part of a step's response (or, ``?part=request``, request) body.

    ``?attempt=N`` picks an attempt of the step (the last one by default).
    """
    run = get_run_for_user(request, run_id)
    result = selectors.run_step_result(run=run, index=index)
    attempt = _attempt(result, request.GET.get("attempt", ""))
    part = request.GET.get("part", "response")
    record = attempt.request if part == "request" else attempt.response
    if record is None or record.body is None:
        raise Http404("That step has no stored body there.")
    media_type = _media_type(record.headers)
    extension = mimetypes.guess_extension(media_type) or ".txt"
    response = _download(
        # The body is stored as text (decoded from its charset): it is sent as UTF-8.
        record.body,
        content_type=f"{media_type}; charset=utf-8",
        filename=f"run-{str(run.pk)[:8]}-step-{index + 1}-{part}{extension}",
    )
    # An attachment, never rendered here, and never sniffed as anything but what it says.
    response["X-Content-Type-Options"] = "nosniff"
    return response


# A media type as RFC 9110 writes one (type "/" subtype, tokens); anything else is not used.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def _media_type(headers: dict[str, str]) -> str:
    """Return the recorded Content-Type's media type, whatever its name's case; else text."""
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = value.split(";")[0].strip().lower()
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else "text/plain"


def _attempt(result: EngineStepResult | None, raw: str) -> Any:
    if result is None or not result.attempts:
        raise Http404("That step has no stored evidence.")
    if not raw:
        return result.attempts[-1]
    for attempt in result.attempts:
        if str(attempt.number) == raw:
            return attempt
    raise Http404(f"That step has no attempt {raw}.")
