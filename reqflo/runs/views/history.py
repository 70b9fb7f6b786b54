"""Run history: every run of the workspace, newest first, filtered, by keyset pages.

The filters are GET parameters, so a filtered page is a link to share; the next page adds
``after`` (the cursor) to the same parameters. A journey's Runs tab is the same list with the
journey fixed. An htmx request (the filter form) gets the table part only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from reqflo.core.access import current_membership, require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, render_page
from reqflo.core.models import Role, Workspace
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.models import Journey
from reqflo.runs import history
from reqflo.runs.forms import RunFilterForm
from reqflo.runs.history import BadCursor, HistoryPage, history_page

TEMPLATE = "runs/run_list.html"


def _page(
    request: AuthedHttpRequest, workspace: Workspace, form: RunFilterForm, journey: Journey | None
) -> tuple[HistoryPage, str]:
    """Return the page asked for, and what was wrong with its ``after`` cursor ("" if nothing).

    A cursor this page did not write shows the newest runs of the same filters, saying so.
    """
    filters = form.filters()
    if journey is not None:
        filters = replace(filters, journey=journey.pk)
    try:
        page = history_page(
            workspace=workspace,
            filters=filters,
            after=request.GET.get("after", ""),
            size=history.PAGE_SIZE,
        )
    except BadCursor as exc:
        return history_page(workspace=workspace, filters=filters, size=history.PAGE_SIZE), str(exc)
    return page, ""


def _context(
    request: AuthedHttpRequest, workspace: Workspace, journey: Journey | None = None
) -> dict[str, Any]:
    form = RunFilterForm(request.GET, workspace=workspace)
    form.is_valid()
    page, cursor_error = _page(request, workspace, form, journey)
    kept = [(k, v) for k, v in request.GET.items() if k != "after" and v]
    return {
        "form": form,
        "page": page,
        "cursor_error": cursor_error,
        "journey": journey,
        "filtered": any(k in form.fields for k, _ in kept),
        "first_url": f"?{urlencode(kept)}" if kept else "?",
        "next_url": f"?{urlencode([*kept, ('after', page.next_cursor)])}"
        if page.next_cursor
        else None,
        "paged": bool(request.GET.get("after")),
        "tab": "runs",
        "can_edit": current_membership(request).can_edit,
    }


def _status(context: dict[str, Any]) -> int:
    # A bad page link is bad input: 400, with the page saying what was wrong and where.
    return FORM_ERROR_STATUS if context["cursor_error"] else 200


@login_required
@require_GET
def run_list(request: AuthedHttpRequest) -> HttpResponse:
    """Show the workspace's runs, newest first, with the filters in the URL."""
    membership = require_role(request, Role.VIEWER, action="see runs")
    context = _context(request, membership.workspace)
    return render_page(request, TEMPLATE, context, partial="run-table", status=_status(context))


@login_required
@require_GET
def journey_runs(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Show one journey's runs (its Runs tab): the history with the journey fixed."""
    journey = get_journey_for_user(request, journey_id)
    context = _context(request, journey.workspace, journey)
    return render_page(
        request, "runs/journey_runs.html", context, partial="run-table", status=_status(context)
    )
