"""Compare two runs of the same journey (``?a=<run id>&b=<run id>``)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reqflo.core.http import AuthedHttpRequest
from reqflo.runs import selectors
from reqflo.runs.access import get_run_for_user
from reqflo.runs.compare import compare_runs


def _run_id(raw: str | None, name: str) -> UUID:
    try:
        return UUID(raw or "")
    except ValueError:
        raise Http404(f"Give two runs to compare: '{name}' is not a run id.") from None


@login_required
@require_GET
def run_compare(request: AuthedHttpRequest) -> HttpResponse:
    """Show what differs between runs ``a`` and ``b``, step by step; both of one journey."""
    first = get_run_for_user(request, _run_id(request.GET.get("a"), "a"))
    second = get_run_for_user(request, _run_id(request.GET.get("b"), "b"))
    a = selectors.run_detail(run_id=first.pk)
    b = selectors.run_detail(run_id=second.pk)
    journey = a.run.journey_version.journey
    if journey.pk != b.run.journey_version.journey_id or a.run.workspace_id != b.run.workspace_id:
        raise Http404("Only two runs of the same journey can be compared.")
    context = {"a": a, "b": b, "journey": journey, "pairs": compare_runs(a, b)}
    return render(request, "runs/run_compare.html", context)
