"""A batch's page: progress, a row per child (or only the failures), live until it ends."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from reqflo.core.access import current_membership
from reqflo.core.http import AuthedHttpRequest, htmx_partial, render_page, render_poll
from reqflo.core.models import Role
from reqflo.runs import reports, selectors
from reqflo.runs.access import get_batch_for_user
from reqflo.runs.models import TERMINAL_STATUSES, RunBatch

TEMPLATE = "runs/batch_detail.html"


def _context(request: AuthedHttpRequest, batch: RunBatch, *, page: bool = True) -> dict[str, Any]:
    failures = request.GET.get("failures") == "1"
    summary = selectors.batch_summary(batch=batch)
    # The state the buttons depend on; a poll from a page that shows another gets them again.
    cancelling = "c" if batch.cancel_requested_at is not None else ""
    facts_key = f"{summary.status}{cancelling}"
    return {
        "facts_key": facts_key,
        "oob": not page and request.GET.get("facts") != facts_key,
        "batch": batch,
        "journey": batch.journey_version.journey,
        "summary": summary,
        "finished": summary.status in TERMINAL_STATUSES,
        "children": selectors.batch_children(batch=batch, failures_only=failures),
        "failures": failures,
        "can_act": current_membership(request).has_role(Role.EDITOR),
        # Reversed once, not per row: a 1,000-row page links every row to its run.
        "run_url_prefix": reverse("runs:list"),
    }


@login_required
@require_GET
def batch_detail(request: AuthedHttpRequest, batch_id: UUID) -> HttpResponse:
    """Show the batch's progress and its rows; ``?failures=1`` shows only the failed ones."""
    batch = get_batch_for_user(request, batch_id)
    return render_page(request, TEMPLATE, _context(request, batch), partial="batch-live")


@login_required
@require_GET
def batch_live(request: AuthedHttpRequest, batch_id: UUID) -> HttpResponse:
    """Answer the page's poll with its live part; 286 (stop polling) once every row ended.

    When the batch's state changed since the page showed it (``?facts=``), its buttons come
    too, out of band: a finished or cancelling batch offers no Cancel.
    """
    batch = get_batch_for_user(request, batch_id)
    if not htmx_partial(request):
        return redirect("runs:batch", batch_id=batch.pk)
    context = _context(request, batch, page=False)
    return render_poll(
        request, TEMPLATE, context, partial="batch-poll", finished=context["finished"]
    )


@login_required
@require_GET
def batch_junit(request: AuthedHttpRequest, batch_id: UUID) -> HttpResponse:
    """Download the combined JUnit XML of the batch's finished rows (a suite per row)."""
    batch = get_batch_for_user(request, batch_id)
    text, _ = reports.batch_junit_report(batch)
    response = HttpResponse(text, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.junit.xml"'
    return response
