"""Compare two runs of the same journey (``?a=<run id>&b=<run id>``)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest
from reqflo.runs import selectors
from reqflo.runs.access import get_run_for_user
from reqflo.runs.compare import compare_runs


def _run_ids(request: AuthedHttpRequest) -> tuple[list[UUID], list[str]]:
    ids: list[UUID] = []
    problems: list[str] = []
    for name in ("a", "b"):
        raw = request.GET.get(name, "")
        try:
            ids.append(UUID(raw))
        except ValueError:
            problems.append(
                f"'{name}' is not a run id ({raw[:40]!r})" if raw else f"'{name}' is missing"
            )
    return ids, problems


@login_required
@require_GET
def run_compare(request: AuthedHttpRequest) -> HttpResponse:
    """Show what differs between runs ``a`` and ``b``, step by step; both of one journey.

    Missing or malformed ids are bad input (400, naming the parameter); a run that does not
    exist or belongs to another workspace is the app's 404 page.
    """
    ids, problems = _run_ids(request)
    if problems:
        return render(
            request, "runs/compare_bad.html", {"problems": problems}, status=FORM_ERROR_STATUS
        )
    first = get_run_for_user(request, ids[0])
    second = get_run_for_user(request, ids[1])
    a = selectors.run_detail(run_id=first.pk)
    b = selectors.run_detail(run_id=second.pk)
    journey = a.run.journey_version.journey
    if journey.pk != b.run.journey_version.journey_id or a.run.workspace_id != b.run.workspace_id:
        raise Http404("Only two runs of the same journey can be compared.")
    context = {"a": a, "b": b, "journey": journey, "pairs": compare_runs(a, b)}
    return render(request, "runs/run_compare.html", context)
